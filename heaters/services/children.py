"""Child processes that never outlive their parent, however it ends.

A clean stop (SIGTERM, SIGINT, SIGHUP) is the parent's job: it stops its children, then exits. When the parent
is killed outright (SIGKILL, the OOM killer) it cannot, so each child notices by itself: on Linux the kernel
sends it SIGTERM the moment its parent dies (``PR_SET_PDEATHSIG``); everywhere, a child started with
``--watch-parent`` also polls its parent's pid and stops when it changes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

PR_SET_PDEATHSIG = 1
PARENT_POLL_SECONDS = 0.5


def _death_signal_hook(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel for SIGTERM when ``parent`` dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return hook


def spawn(command: Sequence[str], **options: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` for a child that is stopped by the kernel if this process dies first.

    The parent-death signal belongs to the thread that started the child, so call this from a thread that
    lives as long as the process (the main thread, or the supervisor's).
    """
    return subprocess.Popen(list(command), preexec_fn=_death_signal_hook(os.getpid()), **options)


def watch_parent(parent: int, on_death: Callable[[], None]) -> threading.Thread:
    """Call ``on_death`` once ``parent`` is no longer this process's parent (it died; we were re-parented)."""

    def poll() -> None:
        stop = threading.Event()
        while not stop.wait(PARENT_POLL_SECONDS):
            if os.getppid() != parent:
                on_death()
                return

    thread = threading.Thread(target=poll, name="watch-parent", daemon=True)
    thread.start()
    return thread


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def on_stop_signals(handler: Callable[[int], None]) -> None:
    """Route every signal that asks a process to stop (SIGTERM, SIGINT, SIGHUP) to ``handler(signum)``.

    ``handler`` runs on a thread of its own, never inside the signal handler: a Python signal handler runs
    between two bytecodes of the main thread, perhaps while it holds a lock such as the one inside
    ``threading.Event.set``, and a second signal arriving there deadlocks on it. Several do arrive together: the
    kernel sends the parent-death signal again for each thread of a dying parent. So the signal handler only
    writes the signal's number to a pipe (a system call, no lock) and the thread reads it.
    """
    read, write = os.pipe()
    os.set_blocking(write, False)

    def relay() -> None:
        while number := os.read(read, 1):
            handler(number[0])

    def note(received: int, _frame: object) -> None:
        with contextlib.suppress(BlockingIOError):  # a full pipe already holds a stop request
            os.write(write, bytes([received]))

    threading.Thread(target=relay, name="stop-signals", daemon=True).start()
    for signum in STOP_SIGNALS:
        signal.signal(signum, note)
