"""Small shared state in the database: values with expiry and windowed counters.

Every web process sees the same rows, so sessions and sign-in throttling hold across processes without a
Redis. Both statements are single upserts (``ON CONFLICT``, SQLite ≥ 3.24 and Postgres), atomic under
concurrent writers.
"""

from __future__ import annotations

import asyncio
import logging
import time

from heaters.db.tables import Counter, StoredValue

log = logging.getLogger(__name__)


async def put(key: str, value: bytes, expires_at: float | None) -> None:
    await StoredValue.raw(
        "INSERT INTO heaters_store (key, value, expires_at) VALUES ({}, {}, {}) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        key, value, expires_at,
    ).run()


async def get(key: str) -> tuple[bytes, float | None] | None:
    """The value and its expiry time, or None if absent or expired."""
    row = await StoredValue.select(StoredValue.value, StoredValue.expires_at).where(StoredValue.key == key).first()
    if row is None or (row["expires_at"] is not None and row["expires_at"] <= time.time()):
        return None
    return bytes(row["value"]), row["expires_at"]


async def set_expiry(key: str, expires_at: float | None) -> None:
    await StoredValue.update({StoredValue.expires_at: expires_at}).where(StoredValue.key == key)


async def delete(key: str) -> None:
    await StoredValue.delete().where(StoredValue.key == key)


async def delete_prefix(prefix: str) -> None:
    """Delete every key starting with ``prefix`` (a plain prefix: no ``%`` or ``_`` in it)."""
    await StoredValue.delete().where(StoredValue.key.like(prefix + "%"))


async def delete_expired() -> None:
    """Remove expired values and counters whose window is over."""
    now = time.time()
    await StoredValue.delete().where(StoredValue.expires_at <= now)
    await Counter.delete().where(Counter.window_ends <= now)


async def sweep_expired(every: float) -> None:
    """``delete_expired`` every ``every`` seconds until cancelled: a web process that runs for weeks keeps
    only live sessions and windows, however many sign-ins it has seen."""
    while True:
        await asyncio.sleep(every)
        try:
            await delete_expired()
        except Exception as exc:  # the database away for a moment: the next sweep catches up
            log.warning("could not remove expired sessions (%s); trying again in %.0f s", exc, every)


async def hit(key: str, window: float) -> tuple[int, float]:
    """Count one event for ``key`` in its current window; return the count and when the window ends.

    A window starts with the first event after the previous one ended.
    """
    now = time.time()
    rows = await Counter.raw(
        "INSERT INTO heaters_counter (key, hits, window_ends) VALUES ({}, 1, {}) ON CONFLICT (key) DO UPDATE SET "
        "hits = CASE WHEN heaters_counter.window_ends <= {} THEN 1 ELSE heaters_counter.hits + 1 END, "
        "window_ends = CASE WHEN heaters_counter.window_ends <= {} THEN excluded.window_ends "
        "ELSE heaters_counter.window_ends END "
        "RETURNING hits, window_ends",
        key, now + window, now, now,
    ).run()
    return int(rows[0]["hits"]), float(rows[0]["window_ends"])


async def count(key: str) -> tuple[int, float]:
    """The count of ``key`` in its current window and when that ends (0 if the window is over)."""
    row = await Counter.select(Counter.hits, Counter.window_ends).where(Counter.key == key).first()
    if row is None or row["window_ends"] <= time.time():
        return 0, 0.0
    return int(row["hits"]), float(row["window_ends"])


async def take_back(key: str) -> None:
    """Uncount one event of ``key`` (never below zero)."""
    await Counter.update({Counter.hits: Counter.hits - 1}).where((Counter.key == key) & (Counter.hits > 0))


async def reset(key: str) -> None:
    await Counter.delete().where(Counter.key == key)

