"""Child processes for ``heaters workers --processes N`` and ``heaters up``: start, restart on crash, stop.

Each worker process is a ``heaters workers --processes 1`` child, so one crashing (a codec bug, the OOM
killer) never takes the others down; the supervisor starts it again after a short pause. Children die with
the supervisor however it ends (``services.children``), and report when they are ready, so a caller knows
the workers really started before it says so.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import click

from heaters.errors import HeatersError
from heaters.services.children import spawn

RESTART_PAUSE = 2.0
READY_TIMEOUT = 120.0


def worker_command(threads: int, queues: Sequence[str], dispatcher: bool) -> list[str]:
    command = [sys.executable, "-m", "heaters", "workers", "--processes", "1", "--threads", str(threads),
               "--watch-parent", str(os.getpid())]
    for name in queues:
        command += ["--queues", name]
    if not dispatcher:
        command.append("--no-dispatcher")
    return command


class Supervisor:
    """Keeps a set of commands running until ``stop``."""

    def __init__(self, commands: Sequence[list[str]], env: dict[str, str] | None = None) -> None:
        self.commands = list(commands)
        self.env = {**os.environ, **(env or {})}
        self.children: list[subprocess.Popen[bytes] | None] = [None] * len(self.commands)
        self.stopping = threading.Event()
        self._ready: list[int | None] = [None] * len(self.commands)  # read ends of the children's ready pipes

    def start(self) -> None:
        for i in range(len(self.commands)):
            self._spawn(i)

    def _spawn(self, i: int) -> None:
        self._close_ready(i)
        read, write = os.pipe()  # the child writes one byte once it consumes its queues
        try:
            command = [*self.commands[i], "--ready-fd", str(write)]
            self.children[i] = spawn(command, env=self.env, pass_fds=(write,))
        finally:
            os.close(write)
        self._ready[i] = read

    def _close_ready(self, i: int) -> None:
        fd, self._ready[i] = self._ready[i], None
        if fd is not None:
            os.close(fd)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Return once every child said it is ready; ``HeatersError`` if one exits first or time runs out."""
        deadline = time.monotonic() + timeout
        waiting = {fd: i for i, fd in enumerate(self._ready) if fd is not None}
        while waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HeatersError(f"the workers were not ready after {timeout:.0f} s", "see the log above")
            readable, _, _ = select.select(list(waiting), [], [], min(left, 0.5))
            for fd in readable:
                i = waiting.pop(fd)
                if not os.read(fd, 1):  # end of file without a byte: the child exited
                    child = self.children[i]
                    code = child.wait() if child is not None else "?"
                    raise HeatersError(f"a worker process exited ({code}) before it was ready",
                                       "see its error above; `heaters doctor` checks the installation")
                self._close_ready(i)

    def watch(self) -> None:
        """Block until ``stop``; restart children that exit on their own."""
        while not self.stopping.wait(0.5):
            for i, child in enumerate(self.children):
                if child is not None and child.poll() is not None and not self.stopping.is_set():
                    click.secho(f"worker process {child.pid} exited ({child.returncode}); restarting", err=True)
                    time.sleep(RESTART_PAUSE)
                    if not self.stopping.is_set():
                        self._spawn(i)

    def watch_in_background(self) -> threading.Thread:
        """``watch`` on a thread of its own (which lives until ``stop``; restarted children die with it)."""
        thread = threading.Thread(target=self.watch, name="supervisor", daemon=True)
        thread.start()
        return thread

    def stop(self, timeout: float = 20.0) -> None:
        self.stopping.set()
        for child in self.children:
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            if child is None:
                continue
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for i in range(len(self._ready)):
            self._close_ready(i)

    def stop_on_signals(self) -> None:
        from heaters.services.children import on_stop_signals

        on_stop_signals(lambda _signum: self.stopping.set())
