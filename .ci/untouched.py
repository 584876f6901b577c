"""Proof that the test suite leaves the machine's Redis and PostgreSQL data as it found them.

``plant`` writes a sentinel key with a unique name and value into every database of the machine's Redis and a
sentinel table into the PostgreSQL database CI names; ``check`` (after the tests) finds every one of them
unchanged, and no database of the tests left behind (those named PREFIX*, when given: other test runs may
share the server), then removes the sentinels again. Exit 1 if anything
was touched. Standard library only (it talks through ``redis-cli`` and ``psql``), so it runs before anything
is installed.

    python3 .ci/untouched.py plant|check REDIS_URL POSTGRES_URL STATE_FILE [PREFIX]
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def redis(url: str, db: int, *command: str) -> str:
    server = urlunsplit(urlsplit(url)._replace(path=f"/{db}"))
    return subprocess.run(["redis-cli", "-u", server, "--no-raw", *command], check=True, capture_output=True,
                          text=True).stdout.strip()


def redis_databases(url: str) -> range:
    reply = subprocess.run(["redis-cli", "-u", url, "CONFIG", "GET", "databases"], check=True,
                           capture_output=True, text=True).stdout.split()
    return range(int(reply[-1]))


def psql(url: str, sql: str) -> list[str]:
    result = subprocess.run(["psql", url, "-AtqX", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return result.stdout.splitlines()


def plant(redis_url: str, postgres_url: str) -> dict[str, object]:
    token = secrets.token_hex(8)
    key, value, table = f"heaters-ci-sentinel-{token}", secrets.token_hex(16), f"heaters_ci_sentinel_{token}"
    for db in redis_databases(redis_url):
        redis(redis_url, db, "SET", key, value)
    psql(postgres_url, f"CREATE TABLE {table} (value text); INSERT INTO {table} VALUES ('{value}')")
    databases = psql(postgres_url, "SELECT datname FROM pg_database")
    return {"key": key, "value": value, "table": table, "databases": databases}


def check(redis_url: str, postgres_url: str, state: dict[str, object], prefix: str = "") -> list[str]:
    problems = []
    key, value, table = str(state["key"]), str(state["value"]), str(state["table"])
    for db in redis_databases(redis_url):
        if redis(redis_url, db, "GET", key) != f'"{value}"':
            problems.append(f"Redis database {db} of {redis_url} lost its sentinel key")
        redis(redis_url, db, "DEL", key)
    try:
        if psql(postgres_url, f"SELECT value FROM {table}") != [value]:
            problems.append(f"the sentinel table {table} was changed")
    except RuntimeError as exc:
        problems.append(f"the sentinel table {table} is gone ({exc})")
    psql(postgres_url, f"DROP TABLE IF EXISTS {table}")
    before = state["databases"]
    assert isinstance(before, list)
    left = {name for name in set(psql(postgres_url, "SELECT datname FROM pg_database")) - set(before)
            if name.startswith(prefix)}
    if left:
        problems.append(f"databases left behind: {', '.join(sorted(left))}")
    return problems


def main(argv: list[str]) -> int:
    action, redis_url, postgres_url, state_file, *rest = argv
    prefix = rest[0] if rest else ""
    path = Path(state_file)
    if action == "plant":
        path.write_text(json.dumps(plant(redis_url, postgres_url)))
        print(f"planted a sentinel in every database of {redis_url} and in {postgres_url}")
        return 0
    problems = check(redis_url, postgres_url, json.loads(path.read_text()), prefix)
    path.unlink()
    for problem in problems:
        print(f"untouched check failed: {problem}", file=sys.stderr)
    if not problems:
        print("the machine's Redis and PostgreSQL data are as the tests found them")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
