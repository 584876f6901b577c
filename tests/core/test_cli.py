"""The CLI end to end in subprocesses: the commands a user types, against a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL


def heaters(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "heaters", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {**os.environ, "HEATERS_DATA_DIR": str(tmp_path / "data"), "HEATERS_USER": "cli-test",
                   "HEATERS_MIN_CLIP_FRAMES": "1"}
    if POSTGRES_URL:
        environment["DATABASE_URL"] = POSTGRES_URL
    return environment


def test_help_lists_commands(env: dict[str, str]) -> None:
    out = heaters("--help", env=env).stdout
    for command in ("migrate", "cuts", "review", "undo", "redo", "validate", "user", "audit", "settings"):
        assert command in out
    assert "Add a cut" in heaters("cuts", "add", "--help", env=env).stdout


def test_cut_workflow(env: dict[str, str], tmp_path: Path) -> None:
    assert heaters("migrate", env=env).returncode == 0
    assert heaters("migrate", env=env).stdout.strip() == "database is up to date"
    make = (
        "import asyncio; from fractions import Fraction; from heaters.settings import Settings;"
        "from heaters.db.engine import connect; from heaters.services.videos import create_video\n"
        "async def main():\n"
        "    async with connect(Settings.from_env()):\n"
        "        print(await create_video('v', state='ready', fps=Fraction(25), total_frames=100,"
        " initial_cuts=[50]))\n"
        "asyncio.run(main())"
    )
    if POSTGRES_URL:  # the session's own test database: start from empty tables
        from tests.conftest import TABLES

        subprocess.run([sys.executable, "-c", "import asyncio, asyncpg\nasync def m():\n"
                        f"    c = await asyncpg.connect({POSTGRES_URL!r}); "
                        f"await c.execute('TRUNCATE {TABLES} RESTART IDENTITY CASCADE')\nasyncio.run(m())"],
                       check=True)
    video = subprocess.run([sys.executable, "-c", make], env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    added = heaters("cuts", "add", video, "20", "--json", env=env)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["cut_version"] == 1
    assert json.loads(heaters("cuts", "list", video, "--json", env=env).stdout)["cuts"] == [20, 50]
    refused = heaters("cuts", "add", video, "500", env=env)
    assert refused.returncode == 2 and "out of range" in refused.stderr and "Traceback" not in refused.stderr
    stale = heaters("cuts", "move", video, "20", "30", "--expected-version", "0", env=env)
    assert stale.returncode == 2 and "changed" in stale.stderr
    assert heaters("cuts", "move", video, "20", "30", env=env).returncode == 0
    assert heaters("undo", video, env=env).returncode == 0
    assert heaters("cuts", "list", video, env=env).stdout.split() == ["20", "50"]
    clips = json.loads(heaters("clips", video, "--json", env=env).stdout)
    # The cut at 20 split clip 1 and the undo kept the move's numbers: 1 [0, 20), then 3 and 2.
    assert [c["number"] for c in clips] == [1, 3, 2]
    assert heaters("clips", video, env=env).stdout.split()[:2] == ["number", "id"]
    assert heaters("review", "approve", str(clips[0]["id"]), env=env).returncode == 0
    assert "MECE" in heaters("validate", env=env).stdout
    audit = json.loads(heaters("audit", video, "--json", env=env).stdout)
    assert [row["kind"] for row in audit] == ["approve", "undo", "move", "add"]
    assert heaters("user", "add", "ana", "--role", "operator", env=env, stdin="pass-word\n").returncode == 0
    assert "operator" in heaters("user", "list", env=env).stdout
    short = heaters("user", "add", "bo", env=env, stdin="x\n")
    assert short.returncode != 0 and "password" in short.stderr.lower()


def test_validate_fails_on_a_broken_partition(env: dict[str, str]) -> None:
    assert heaters("migrate", env=env).returncode == 0
    if POSTGRES_URL:
        pytest.skip("this test writes the broken rows with sqlite3; the Postgres path is covered by the services")
    import sqlite3

    db = sqlite3.connect(Path(env["HEATERS_DATA_DIR"]) / "heaters.sqlite3")
    db.execute("INSERT INTO source_video (title, source, state, error, attempts, progress, fps_num, fps_den,"
               " total_frames, width, height, has_audio, original_key, master_key, proxy_key, proxy_index_key,"
               " features_key, cut_version, review_user, created_at, updated_at) VALUES ('v', '', 'ready', '', 0,"
               " '{}', 25, 1, 100, 0, 0, 0, '', '', '', '', '', 0, '', '2026-01-01', '2026-01-01')")
    for start, end in ((0, 40), (45, 100)):
        db.execute("INSERT INTO clip (source_video, start_frame, end_frame, state, reviewed_by, export_key, error,"
                   " attempts, created_at, updated_at) VALUES (1, ?, ?, 'pending_review', '', '', '', 0,"
                   " '2026-01-01', '2026-01-01')", (start, end))
    db.commit()
    result = heaters("validate", env=env)
    assert result.returncode == 1 and "gap at frame 40" in result.stdout


def run_in(directory: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """A command run the way a user runs it in ``directory``: no heaters settings in the environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEATERS_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run([sys.executable, "-m", "heaters", *args], cwd=directory, env={**env, **extra},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [["videos"], ["clips", "1"], ["cuts", "add", "1", "20"], ["audit"], ["validate"],
                                  ["user", "list"], ["workers"], ["serve"], ["tui"], ["retry", "--all"]],
                         ids=lambda a: " ".join(a))
def test_outside_a_project_nothing_is_created(tmp_path: Path, args: list[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_in(elsewhere, *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: no heaters data here" in result.stderr
    assert "HEATERS_DATA_DIR" in result.stderr and "heaters up" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(elsewhere.iterdir()) == []  # no ./heaters-data, no database file


def test_arguments_that_name_nothing(env: dict[str, str]) -> None:
    assert heaters("migrate", env=env).returncode == 0
    negative = heaters("cuts", "add", "1", "-3", env=env)
    assert negative.returncode == 2 and "No such option" not in negative.stderr
    huge = heaters("clips", "99999999999999999999", env=env)
    assert huge.returncode == 2 and "video 99999999999999999999 not found" in huge.stderr
    past_int32 = heaters("review", "approve", str(2**31), env=env)  # a BIGINT id: asked of the database
    assert past_int32.returncode == 2 and f"clip {2**31} does not exist" in past_int32.stderr
    beyond = heaters("review", "approve", str(2**53), env=env)
    assert beyond.returncode == 2 and f"clip {2**53} not found" in beyond.stderr
    far = heaters("cuts", "add", "1", str(2**40), env=env)
    assert far.returncode == 2 and "out of range" in far.stderr
    unknown = [heaters(*args, env=env) for args in (["audit", "999"], ["retry", "999"], ["retry", "--clip", "999"])]
    assert [r.returncode for r in unknown] == [2, 2, 2] and all("999 not found" in r.stderr for r in unknown)
    state = heaters("videos", "--state", "bogus", env=env)
    assert state.returncode == 2 and "encode_failed" in state.stderr  # the states it could have been
    version = heaters("cuts", "add", "1", "5", "--expected-version", "abc", env=env)
    assert version.returncode == 2 and "not a valid integer" in version.stderr and "frame" not in version.stderr
    assert heaters("retry", env=env).returncode == 2  # a usage error, like the others
    assert "VERSION" in heaters("cuts", "add", "--help", env=env).stdout
    for result in (negative, huge, beyond, far, *unknown, state, version):
        assert "Traceback" not in result.stderr


def test_a_database_without_tables_says_to_migrate(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "heaters.sqlite3").touch()
    result = run_in(tmp_path, "videos", HEATERS_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 1
    assert "no heaters tables" in result.stderr and "heaters migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unexpected_error_is_one_line_unless_debugging(tmp_path: Path) -> None:
    unusable = f"sqlite:///{tmp_path}"  # a directory: SQLite cannot open it
    plain = run_in(tmp_path, "videos", DATABASE_URL=unusable)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.startswith("error: ") and "--debug" in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 2  # the error and the hint
    debug = run_in(tmp_path, "--debug", "videos", DATABASE_URL=unusable)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert "Traceback" in run_in(tmp_path, "videos", DATABASE_URL=unusable, HEATERS_DEBUG="1").stderr


def test_table_cells_cannot_break_the_table_or_the_terminal() -> None:
    from heaters.cli.common import MAX_CELL, cell

    assert cell("two\nlines\x1b]0;owned\x07 \x1b[31mred") == "two lines ]0;owned   [31mred"  # no escape reaches it
    assert cell("abc\u202edcba") == "abc dcba"  # a bidi override would reorder the rest of the row
    assert cell("zoë · 日本語 ✓") == "zoë · 日本語 ✓"
    long = cell("x" * 5000)
    assert len(long) == MAX_CELL and long.endswith("…")
