"""Give up on a download that trickles in the middle of one read.

yt-dlp reads a download in blocks, which grow to 4 MB while the bytes come fast, and reports progress only
between blocks. If the source then drops to a trickle, the thread sits inside one block read for hours. The
socket timeout only catches silence. On Linux the kernel counts every byte a thread reads (``rchar`` in
``/proc/self/task/TID/io``), so a watcher thread sees the trickle as it happens. It stops the read by raising
``Stalled`` in the reading thread. Python delivers it the next time that thread runs Python code, which is the
socket module's ``readinto`` between two receives; Dramatiq's time limits stop actors the same way. On other
systems nothing is watched, and the check between blocks is all there is.
"""

from __future__ import annotations

import ctypes
import threading
import time
from types import TracebackType


class Stalled(BaseException):
    """Raised in the reading thread. Like an interrupt, it is a BaseException: no library's ``except Exception``
    takes it for an ordinary error to retry."""


def thread_reads(native_id: int) -> int | None:
    """Bytes the thread has read so far (all its reads: sockets, files, pipes), or None where unknown."""
    try:
        with open(f"/proc/self/task/{native_id}/io") as io:
            for line in io:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class RateFloor:
    """Counts bytes against a floor: fewer than ``least`` of them within ``seconds`` is too slow."""

    def __init__(self, seconds: float, least: int) -> None:
        self.seconds, self.least = seconds, least
        self.restart(0)

    def restart(self, count: int) -> None:
        self.mark, self.since = count, time.monotonic()

    def too_slow(self, count: int) -> tuple[int, float] | None:
        """(bytes, seconds) of the current window once ``count`` (bytes so far) shows it too slow, else None."""
        now = time.monotonic()
        if count - self.mark >= self.least or count < self.mark:  # enough arrived (or a new count began)
            self.mark, self.since = count, now
        elif now - self.since > self.seconds:
            return count - self.mark, now - self.since
        return None


class ReadWatch:
    """While armed, raise ``Stalled`` in the armed thread once it reads fewer than ``least`` bytes within
    ``seconds``; ``stalled`` then holds (bytes, seconds) of that window."""

    def __init__(self, seconds: float, least: int) -> None:
        self.floor = RateFloor(seconds, least)
        self.stalled: tuple[int, float] | None = None
        self._lock = threading.Lock()
        self._thread: tuple[int, int] | None = None  # (ident, native id) of the armed thread
        self._closed = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="read-watch", daemon=True)

    def __enter__(self) -> ReadWatch:
        self._watcher.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._closed.set()
        self._watcher.join()
        with self._lock:
            if self.stalled is not None and self._thread is not None and not (kind and issubclass(kind, Stalled)):
                # Raised as the read ended some other way: take it back before it lands elsewhere.
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread[0]), None)
            self._thread = None

    def arm(self) -> None:
        """Watch the calling thread's reads from now on (again: keep watching)."""
        with self._lock:
            if self._thread is None and self.stalled is None:
                native = threading.get_native_id()
                self._thread = (threading.get_ident(), native)
                self.floor.restart(thread_reads(native) or 0)

    def disarm(self) -> None:
        with self._lock:
            if self.stalled is None:
                self._thread = None

    def _watch(self) -> None:
        while not self._closed.wait(max(0.25, min(5.0, self.floor.seconds / 4))):
            with self._lock:
                if self._thread is None or self.stalled is not None:
                    continue
                ident, native = self._thread
                reads = thread_reads(native)
                if reads is None:
                    return  # nothing to watch on this system
                self.stalled = self.floor.too_slow(reads)
                if self.stalled is not None:
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(Stalled))
