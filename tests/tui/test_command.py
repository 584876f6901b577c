"""``heaters tui`` as a user runs it: import hygiene, clear errors before the screen opens, a real terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from heaters.settings import Settings

HEATERS = [sys.executable, "-m", "heaters"]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HEATERS_DATA_DIR")}
    return {**env, "HEATERS_DATA_DIR": str(tmp_path / "data"), **extra}


def test_console_does_not_import_litestar() -> None:
    code = (
        "import sys, heaters.cli.tui, heaters.tui.app\n"
        "from heaters.tui.app import HeatersApp\n"
        "from heaters.settings import Settings\n"
        "HeatersApp(Settings.from_env({}))\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('litestar', 'uvicorn'))\n"
        "assert 'textual' in sys.modules\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_unreachable_database_is_named_before_the_screen_opens(tmp_path: Path) -> None:
    env = env_for(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/heaters")
    result = subprocess.run([*HEATERS, "tui"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert "error: cannot connect to the database" in result.stderr and "hint: check DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr


def test_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "heaters.sqlite3").touch()  # a database without the schema (no file at all: no data here)
    result = subprocess.run([*HEATERS, "tui"], capture_output=True, text=True, env=env_for(tmp_path), timeout=60)
    assert result.returncode == 1
    assert "schema is not up to date (pending: m0001_initial" in result.stderr
    assert "run `heaters migrate`" in result.stderr


def test_runs_in_a_terminal_without_redis_and_quits(db: Settings, tmp_path: Path) -> None:
    """The whole command in a pseudo-terminal: a Redis outage is a warning, the screen opens, ``q`` quits."""
    env = env_for(tmp_path, DATABASE_URL=db.resolved_database_url, REDIS_URL="redis://127.0.0.1:1/0",
                  TERM="xterm-256color", COLUMNS="80", LINES="24")
    leader, follower = pty.openpty()
    process = subprocess.Popen([*HEATERS, "tui", "--user", "ana"], stdin=follower, stdout=follower,
                               stderr=follower, env=env, close_fds=True)
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"Pipeline" not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                seen += os.read(leader, 65536)
        assert b"Pipeline" in seen, seen[-500:]
        os.write(leader, b"q")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    assert b"warning: cannot reach Redis" in seen and b"queue depths unavailable" in seen
