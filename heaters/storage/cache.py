"""A size-bounded local cache of masters, shared by every export on one host.

Exporting many clips of one video must not download its (large) master once per clip. ``MasterCache.open``
downloads a key once under a per-key file lock, so threads and processes on the host share one copy, and
evicts least-recently-used copies beyond ``max_bytes``.

A copy in use is pinned with a shared ``flock`` on the file itself; eviction only removes a file it can lock
exclusively, so a running export never loses its master. Without ``fcntl`` (Windows) the operating system
refuses to delete an open file, which gives the same protection. Eviction runs after each download; while
pinned copies alone exceed the bound the cache stays over it until they are released.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from filelock import FileLock, Timeout

from heaters.errors import NotFound
from heaters.settings import Settings
from heaters.storage.base import TEMP_PREFIX, Storage, validate_key

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_STALE_TEMP_SECONDS = 24 * 3600


class MasterCache:
    """``with cache.open(storage, key) as path:`` gives a local file holding ``key`` for the block's duration."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._locks = self.root / ".locks"
        self._locks.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> MasterCache:
        return cls(settings.data_dir / "cache" / "masters", settings.master_cache_bytes)

    @contextlib.contextmanager
    def open(self, storage: Storage, key: str) -> Iterator[Path]:
        """Yield a local path of ``key``; local storage yields its own file, nothing is copied."""
        direct = storage.local_path(key)
        if direct is not None:
            if not direct.is_file():
                raise NotFound(f"no stored object {key!r}", "looked in the storage root (HEATERS_STORAGE_DIR)")
            yield direct
            return
        path = self.path_for(key)
        with self._key_lock(path):
            # Comparing sizes catches a master that was re-encoded under the same key.
            fresh = path.is_file() and path.stat().st_size == storage.size(key)
            if not fresh:
                storage.download(key, path)
            pin = _pin(path)
            os.utime(path)  # recency for LRU eviction
        try:
            if not fresh:
                self.evict()
            yield path
        finally:
            pin.close()

    def path_for(self, key: str) -> Path:
        """Where the copy of ``key`` lives: flat, so eviction is one directory scan."""
        validate_key(key)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self.root / f"{digest}-{key.rsplit('/', 1)[-1]}"

    def cached_bytes(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def evict(self) -> list[Path]:
        """Remove least-recently-used copies not in use until the cache fits ``max_bytes``; return them."""
        removed: list[Path] = []
        try:
            # One evictor at a time; a busy lock means another one is already doing this work.
            with FileLock(self._locks / ".evict.lock", timeout=0):
                entries = sorted(self._entries())
                total = sum(size for _, size, _ in entries)
                for _, size, path in entries:
                    if total <= self.max_bytes:
                        break
                    if self._remove_if_unused(path):
                        removed.append(path)
                        total -= size
                self._remove_stale_temps()
        except Timeout:
            pass
        return removed

    def _entries(self) -> list[tuple[float, int, Path]]:
        entries = []
        for path in self.root.iterdir():
            if path.name.startswith("."):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
        return entries

    def _key_lock(self, path: Path, timeout: float = -1) -> FileLock:
        return FileLock(self._locks / f"{path.name}.lock", timeout=timeout)

    def _remove_if_unused(self, path: Path) -> bool:
        try:
            # The key lock keeps a reader from pinning the file between our check and the unlink.
            with self._key_lock(path, timeout=0), open(path, "rb") as f:
                if fcntl is not None:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                path.unlink()
            return True
        except (Timeout, BlockingIOError, PermissionError, FileNotFoundError):
            return False

    def _remove_stale_temps(self) -> None:
        # Downloads killed midway leave temp files behind; anything this old is not being written.
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for path in self.root.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def _pin(path: Path) -> IO[bytes]:
    """Open ``path`` with a shared lock that lasts until the returned file is closed."""
    f = open(path, "rb")  # noqa: SIM115 - closed by the caller when the copy is released
    if fcntl is not None:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH)
    return f
