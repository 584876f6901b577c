"""Proof that the test suite leaves the machine's Redis and PostgreSQL data as it found them.

``plant`` writes a sentinel key with a unique name and value into every database of the machine's Redis and a
sentinel table into the PostgreSQL database CI names; ``check`` (after the tests) finds every one of them
unchanged, and no database left behind by the tests, then removes the sentinels again. Exit 1 if anything
was touched.

    python .ci/untouched.py plant|check REDIS_URL POSTGRES_URL STATE_FILE
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis


def redis_databases(redis_url: str) -> list[redis.Redis]:
    """A client for each database of the server at ``redis_url``."""
    count = int(redis.Redis.from_url(redis_url).config_get("databases")["databases"])
    server = urlsplit(redis_url)
    return [redis.Redis.from_url(urlunsplit(server._replace(path=f"/{db}"))) for db in range(count)]


async def postgres_databases(connection: asyncpg.Connection) -> set[str]:
    return {r["datname"] for r in await connection.fetch("SELECT datname FROM pg_database")}


async def plant(redis_url: str, postgres_url: str) -> dict[str, object]:
    token = secrets.token_hex(8)
    key, value = f"heaters-ci-sentinel-{token}", secrets.token_hex(16)
    for client in redis_databases(redis_url):
        client.set(key, value)
    table = f"heaters_ci_sentinel_{token}"
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute(f"CREATE TABLE {table} (value text)")
        await connection.execute(f"INSERT INTO {table} VALUES ($1)", value)
        databases = sorted(await postgres_databases(connection))
    finally:
        await connection.close()
    return {"key": key, "value": value, "table": table, "databases": databases}


async def check(redis_url: str, postgres_url: str, state: dict[str, object]) -> list[str]:
    problems = []
    key, value, table = str(state["key"]), str(state["value"]), str(state["table"])
    for db, client in enumerate(redis_databases(redis_url)):
        if client.get(key) != value.encode():
            problems.append(f"Redis database {db} of {redis_url} lost its sentinel key")
        client.delete(key)
    connection = await asyncpg.connect(postgres_url)
    try:
        try:
            rows = await connection.fetch(f"SELECT value FROM {table}")
            if [r["value"] for r in rows] != [value]:
                problems.append(f"the sentinel table {table} was changed")
        except asyncpg.UndefinedTableError:
            problems.append(f"the sentinel table {table} was dropped")
        await connection.execute(f"DROP TABLE IF EXISTS {table}")
        left = await postgres_databases(connection) - set(state["databases"])  # type: ignore[arg-type]
        if left:
            problems.append(f"databases left behind: {', '.join(sorted(left))}")
    finally:
        await connection.close()
    return problems


def main(argv: list[str]) -> int:
    action, redis_url, postgres_url, state_file = argv
    path = Path(state_file)
    if action == "plant":
        path.write_text(json.dumps(asyncio.run(plant(redis_url, postgres_url))))
        print(f"planted a sentinel in every database of {redis_url} and in {postgres_url}")
        return 0
    problems = asyncio.run(check(redis_url, postgres_url, json.loads(path.read_text())))
    path.unlink()
    for problem in problems:
        print(f"untouched check failed: {problem}", file=sys.stderr)
    if not problems:
        print("the machine's Redis and PostgreSQL data are as the tests found them")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
