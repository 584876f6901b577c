"""``heaters up`` and ``heaters workers`` as real process trees: every way the parent ends stops all of it.

Each test starts the real command, waits until it serves (or its workers consume), records its whole process
tree from /proc, ends the parent with one signal, and checks that no process of the tree survives. SIGKILL
leaves the parent no chance to clean up: the children must notice by themselves.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from heaters.services.broker import embedded_redis_url
from heaters.settings import Settings
from tests.pipeline.conftest import free_port, settings_env

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")

STOP_SECONDS = 60.0  # generous: a loaded CI machine is slow, and this is not a speed test


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # after "pid (name) ": state, ppid, ...


def alive(pid: int) -> bool:
    """Running, not a zombie (a dead orphan may wait for a reaper that never comes in a container)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {pid for pid in found if alive(pid)}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


class Tree:
    """A ``heaters`` command started like a user does, its output in a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.members: set[int] = set()  # the tree as last recorded, so a failed test still ends all of it
        self.proc = subprocess.Popen([sys.executable, "-m", "heaters", *args], env=env,
                                     stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, check: object, what: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():  # type: ignore[operator]
            assert self.proc.poll() is None, f"exited ({self.proc.returncode}) before {what}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {what} after {timeout:.0f} s:\n{self.output()}"
            time.sleep(0.2)

    def end(self) -> None:
        members = self.members | (descendants(self.proc.pid) if self.proc.poll() is None else set())
        for pid in [self.proc.pid, *members]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def env(db: Settings) -> dict[str, str]:
    environment = {**os.environ, **settings_env(db)}  # a migrated database: workers refuse to start without one
    environment.pop("REDIS_URL", None)  # the embedded default
    return environment


@pytest.fixture
def trees() -> Iterator[list[Tree]]:
    started: list[Tree] = []
    yield started
    for tree in started:
        tree.end()


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_up(env: dict[str, str], tmp_path: Path, trees: list[Tree], *extra: str) -> tuple[Tree, int]:
    port = free_port()
    tree = Tree(["up", "--port", str(port), *extra], env, tmp_path / f"up-{port}.log")
    trees.append(tree)
    tree.wait_for(lambda: "review app: http://" in tree.output(), "address printed")
    assert answers(port)  # printed only once it answers
    return tree, port


def start_workers(env: dict[str, str], tmp_path: Path, trees: list[Tree]) -> Tree:
    tree = Tree(["workers", "--processes", "2", "--threads", "1"], env, tmp_path / "workers.log")
    trees.append(tree)
    tree.wait_for(lambda: tree.output().count("worker ready") == 2, "two workers ready")
    return tree


def assert_all_stop(tree: Tree, signum: int) -> None:
    members = tree.members = descendants(tree.proc.pid)
    names = {pid: command_line(pid) for pid in members}
    assert any("redis-server" in n for n in names.values()), names  # the embedded Redis is part of the tree
    assert any("workers" in n and "--processes 1" in n for n in names.values()), names
    tree.proc.send_signal(signum)
    tree.proc.wait(STOP_SECONDS)
    deadline = time.monotonic() + STOP_SECONDS
    while (left := {pid for pid in members if alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"still running after {signal.Signals(signum).name}: {[names[p] for p in left]}"
    if signum != signal.SIGKILL:
        assert tree.proc.returncode == 0, tree.output()


SIGNALS = [pytest.param(s, id=s.name) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL)]


@pytest.mark.parametrize("signum", SIGNALS)
def test_up_leaves_no_process_behind(signum: int, env: dict[str, str], settings: Settings, tmp_path: Path,
                                     trees: list[Tree]) -> None:
    tree, _ = start_up(env, tmp_path, trees)
    assert embedded_redis_url(settings) is not None
    assert_all_stop(tree, signum)
    assert embedded_redis_url(settings) is None


@pytest.mark.parametrize("signum", SIGNALS)
def test_workers_leave_no_process_behind(signum: int, env: dict[str, str], tmp_path: Path,
                                         trees: list[Tree]) -> None:
    assert_all_stop(start_workers(env, tmp_path, trees), signum)


def test_a_second_up_on_the_same_data_refuses(env: dict[str, str], tmp_path: Path, trees: list[Tree]) -> None:
    start_up(env, tmp_path, trees)
    second = subprocess.run([sys.executable, "-m", "heaters", "up", "--port", str(free_port())], env=env,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "another `heaters up` is running" in second.stderr and "Traceback" not in second.stderr


def test_up_fails_loudly_when_the_port_is_taken(env: dict[str, str], tmp_path: Path, trees: list[Tree]) -> None:
    _, port = start_up(env, tmp_path, trees)
    other = {**env, "HEATERS_DATA_DIR": str(tmp_path / "other")}
    other.pop("DATABASE_URL", None)
    before = descendants(os.getpid())
    result = subprocess.run([sys.executable, "-m", "heaters", "up", "--port", str(port)], env=other,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "review app:" not in result.stdout and "Traceback" not in result.stderr
    assert descendants(os.getpid()) == before  # it started nothing it left behind


def test_up_throttles_sign_ins_by_the_real_client_address(env: dict[str, str], tmp_path: Path,
                                                          trees: list[Tree]) -> None:
    # `heaters up` has no proxy in front: a local client's X-Forwarded-For must not pick its throttle address.
    subprocess.run([sys.executable, "-m", "heaters", "user", "add", "rita", "--password-stdin"], env=env,
                   input="correct-horse\n", text=True, check=True, capture_output=True, timeout=60)
    _, port = start_up(env, tmp_path, trees)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.get("/login")
        form = {"username": "rita", "password": "wrong-guess", "_csrf_token": client.cookies.get("csrftoken") or ""}
        codes = [client.post("/login", data=form, headers={"x-forwarded-for": f"198.51.100.{n}"},
                             follow_redirects=False).status_code for n in range(6)]
    assert codes == [401] * 5 + [429]


def test_up_fails_loudly_when_the_broker_is_unreachable(env: dict[str, str]) -> None:
    before = descendants(os.getpid())
    result = subprocess.run([sys.executable, "-m", "heaters", "up", "--port", str(free_port())],
                            env={**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot reach Redis" in result.stderr and "REDIS_URL" in result.stderr
    assert "review app:" not in result.stdout and "Traceback" not in result.stderr
    assert descendants(os.getpid()) == before



STORM = """
import os, threading, time
from heaters.services.children import on_stop_signals
stop = threading.Event()
on_stop_signals(lambda _signum: stop.set())
os.write(1, b"ready\\n")
stop.wait()
until = time.monotonic() + 1  # go on a little while more signals arrive, as a worker does while it stops
while time.monotonic() < until:
    stop.wait(0.0001)
"""


def test_a_storm_of_stop_signals_stops_a_process() -> None:
    """The kernel sends the parent-death signal once per thread of a dying parent, so several come at once.
    Handled inside the signal handler, they nest: a deadlock on the event's lock, or a RecursionError."""
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", STORM], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        for _ in range(50):  # bursts of signals, as a parent with many threads gives when it dies
            for _ in range(20):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)
            time.sleep(0.02)
        try:
            # 0, or killed by a late SIGTERM after the interpreter dropped its handlers on exit: it ended
            assert child.wait(STOP_SECONDS / 4) in (0, -signal.SIGTERM)
            assert child.stderr is not None and b"Error" not in child.stderr.read()
        finally:
            child.kill()
            child.wait()
