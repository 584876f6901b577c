"""``heaters tui``: the operator console. Textual is imported only when the command runs."""

from __future__ import annotations

import warnings

import click

from heaters.cli.common import CONTEXT, fail, load_settings, require_data
from heaters.errors import ConfigError, HeatersError
from heaters.settings import Settings


async def preflight(settings: Settings) -> str:
    """Check the database before the screen takes over the terminal; return a warning about Redis, if any.

    The database is required (every screen reads it), so any problem there is an error that names what to do.
    Redis is not: without it the console still runs and shows queue depths as unavailable.
    """
    from heaters.db.engine import connect
    from heaters.db.migrate import applied, available

    try:
        async with connect(settings) as engine:
            pending = sorted({path.stem for path in available()} - await applied(engine))
    except HeatersError:
        raise
    except Exception as exc:  # driver errors differ (OSError, asyncpg, sqlite3); the message names the cause
        raise ConfigError(f"cannot use the database: {exc}", "check DATABASE_URL and that the server runs") from None
    if pending:
        raise ConfigError(f"the database schema is not up to date (pending: {', '.join(pending)})",
                          "run `heaters migrate`")
    return await redis_warning(settings)


async def redis_warning(settings: Settings) -> str:
    from redis.exceptions import RedisError

    from heaters.services.status import open_redis, queue_depths

    try:
        client = open_redis(settings)
    except ValueError as exc:
        return f"REDIS_URL is not usable ({exc}): queue depths unavailable"
    if client is None:
        return "the embedded Redis is not running (start `heaters up`, or set REDIS_URL): queue depths unavailable"
    try:
        await queue_depths(client, settings.redis_namespace)
    except (RedisError, OSError) as exc:
        return f"cannot reach Redis ({exc}): queue depths unavailable; check REDIS_URL"
    finally:
        await client.aclose()
    return ""


@click.command("tui", context_settings=CONTEXT)
@click.option("--user", default=None, envvar="HEATERS_USER",
              help="Name recorded in the audit log (env HEATERS_USER; default: your login name).")
@click.option("--refresh", type=click.FloatRange(0.2, 60), default=1.5, show_default=True,
              help="Seconds between screen refreshes.")
def tui(user: str | None, refresh: float) -> None:
    """Operator console: pipeline, queues, videos, cut editor and audit log in the terminal.

    Uses the same settings as every other command (DATABASE_URL or the SQLite file, REDIS_URL).
    """
    import asyncio

    settings = load_settings()
    require_data(settings)
    try:
        with warnings.catch_warnings():  # the driver's own connection warning repeats the error printed below
            warnings.simplefilter("ignore")
            warning = asyncio.run(preflight(settings))
    except HeatersError as exc:
        fail(exc)
        return
    if warning:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    from heaters.tui.app import HeatersApp

    HeatersApp(settings, user=user, refresh_seconds=refresh).run()


COMMANDS: list[click.Command] = [tui]
