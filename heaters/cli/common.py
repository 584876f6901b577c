"""What every command shares: settings, the database connection, error rendering, JSON output."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NoReturn, TypeVar

import click

from heaters.errors import ConfigError, HeatersError, InvalidCut, NotFound
from heaters.limits import MAX_FRAME, MAX_ID  # a larger number cannot name a row or a frame anywhere
from heaters.settings import Settings

DEBUG = False  # --debug / HEATERS_DEBUG: let unexpected errors raise with their traceback
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
T = TypeVar("T")
NO_DATA_HINT = ("point at your data with HEATERS_DATA_DIR (or DATABASE_URL), "
                "or start here with `heaters up` (or `heaters migrate`)")


class RowId(click.ParamType):
    """A video or clip id: a number that is not a row anywhere (0, negative, too large) is "not found"."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not 1 <= number <= MAX_ID:
            what = (param.name or "row") if param else "row"
            listing = "clips VIDEO" if what == "clip" else "videos"
            fail(NotFound(f"{what} {number} not found", f"see `heaters {listing}`"))
        return number


class Frame(click.ParamType):
    """A frame number; negative ones are values, not options (with ``ignore_unknown_options``)."""

    name = "frame"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a frame number", param, ctx)
        if not -MAX_FRAME <= number <= MAX_FRAME:
            fail(InvalidCut(f"frame {number} is out of range", "see `heaters cuts list VIDEO` for the frame count"))
        return number


ROW_ID = RowId()
FRAME = Frame()
# Commands whose arguments are frames accept "-3" as a (refused) frame instead of an unknown option.
FRAME_CONTEXT = {**CONTEXT, "ignore_unknown_options": True}


def sqlite_file(settings: Settings) -> Any:
    from pathlib import Path

    return Path(settings.resolved_database_url.removeprefix("sqlite:///"))


def require_data(settings: Settings) -> None:
    """Refuse, creating nothing, when there is no heaters database where the settings point."""
    if settings.is_sqlite and not sqlite_file(settings).exists():
        fail(ConfigError(f"no heaters data here: {sqlite_file(settings)} does not exist", NO_DATA_HINT))


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except HeatersError as exc:
        return fail(exc)


def fail(exc: HeatersError) -> NoReturn:
    """One clear line on stderr (plus the hint), then a non-zero exit."""
    click.secho(f"error: {exc.message}", fg="red", err=True)
    if exc.hint:
        click.echo(f"  hint: {exc.hint}", err=True)
    sys.exit(2 if exc.status_code in (404, 409, 422) else 1)


def run_db(work: Callable[[Settings], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``work`` against the configured database; render ``HeatersError`` for the terminal."""
    from heaters.db.engine import connect

    settings = settings or load_settings()
    require_data(settings)

    async def wrapped() -> T:
        async with connect(settings):
            return await work(settings)

    import asyncio  # here, not at the top: commands without a database (`scenes`) start faster

    try:
        return asyncio.run(wrapped())
    except HeatersError as exc:
        return fail(exc)
    except OSError as exc:  # database unreachable
        return fail(HeatersError(f"cannot reach the database: {exc}", "check DATABASE_URL and `heaters migrate`"))
    except Exception as exc:
        if _missing_tables(exc):
            return fail(ConfigError("the database has no heaters tables yet",
                                    "run `heaters migrate` (or `heaters up`)"))
        raise


def _missing_tables(exc: BaseException) -> bool:
    """SQLite's "no such table" or PostgreSQL's undefined table: the schema was never created."""
    return "no such table" in str(exc) or type(exc).__name__ == "UndefinedTableError"


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(f)


def user_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--user", "user", default="cli", show_default=True, envvar="HEATERS_USER",
        help="Name recorded in the audit log (env HEATERS_USER).",
    )(f)


def version_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--expected-version", type=click.IntRange(min=0, max=MAX_FRAME), default=None, metavar="VERSION",
        help="Refuse (exit 2) unless the video is still at this cut_version.",
    )(f)


MAX_CELL = 80  # characters: a longer value (a title of thousands) is cut, with an ellipsis
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # would reorder the rest of the line


def cell(value: Any) -> str:
    """One table cell: control characters (newlines, a terminal's escape sequences from a title a website
    chose) shown as spaces, and at most MAX_CELL characters."""
    text = "".join(" " if unicodedata.category(c) == "Cc" or c in _BIDI else c for c in str(value))
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned table: readable in a terminal, easy to grep."""
    cells = [[cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
