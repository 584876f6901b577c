"""Child processes for ``heaters workers --processes N`` and ``heaters up``: start, restart on crash, stop.

Each worker process is a ``heaters workers --processes 1`` child, so one crashing (a codec bug, the OOM
killer) never takes the others down; the supervisor starts it again after a short pause.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import click

RESTART_PAUSE = 2.0


def worker_command(threads: int, queues: Sequence[str], dispatcher: bool) -> list[str]:
    command = [sys.executable, "-m", "heaters", "workers", "--processes", "1", "--threads", str(threads)]
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

    def start(self) -> None:
        for i in range(len(self.commands)):
            self._spawn(i)

    def _spawn(self, i: int) -> None:
        self.children[i] = subprocess.Popen(self.commands[i], env=self.env)

    def watch(self) -> None:
        """Block until ``stop``; restart children that exit on their own."""
        while not self.stopping.wait(0.5):
            for i, child in enumerate(self.children):
                if child is not None and child.poll() is not None and not self.stopping.is_set():
                    click.secho(f"worker process {child.pid} exited ({child.returncode}); restarting", err=True)
                    time.sleep(RESTART_PAUSE)
                    self._spawn(i)

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

    def stop_on_signals(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.stopping.set())
