"""What every storage backend shares: the protocol, the key rules, storage classes per kind, atomic files.

Keys are ``/``-separated relative paths such as ``masters/12.mkv``. Both backends accept exactly the same
keys, so a key that works on a laptop works on S3 and the other way round.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from heaters.errors import BadInput

Kind = Literal["original", "master", "proxy", "proxy_index", "clip", "keyframe", "features"]
KINDS: tuple[Kind, ...] = ("original", "master", "proxy", "proxy_index", "clip", "keyframe", "features")

# Hidden temp names never collide with a key's last segment being used as-is by readers, and the
# master cache skips dotfiles when it counts its size.
TEMP_PREFIX = ".tmp-"


@runtime_checkable
class Storage(Protocol):
    """Media storage addressed by key. Ranges are half-open: ``open_range(k, 0, 10)`` is the first 10 bytes."""

    def put_file(self, key: str, local_path: Path, kind: Kind | None = None) -> None: ...
    def move_file(self, key: str, local_path: Path, kind: Kind | None = None) -> None: ...
    def put_bytes(self, key: str, data: bytes, kind: Kind | None = None) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def download(self, key: str, local_path: Path) -> None: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def delete(self, key: str) -> None: ...
    def open_range(self, key: str, start: int, end: int) -> bytes: ...
    def url(self, key: str, kind: Kind | None = None, disposition: str | None = None) -> str | None: ...
    def local_path(self, key: str) -> Path | None: ...
    def ensure_readable(self, key: str) -> bool: ...
    def remove_leftovers(self, before: float) -> list[str]: ...


@dataclass(frozen=True)
class StorageClasses:
    """S3 storage class per kind of object: masters and proxies are configurable, the rest is STANDARD."""

    master: str = "STANDARD"
    proxy: str = "STANDARD"

    def for_kind(self, kind: Kind | None) -> str:
        if kind is not None and kind not in KINDS:
            raise BadInput(f"unknown storage kind {kind!r}", f"use one of {', '.join(KINDS)}")
        if kind == "master":
            return self.master
        if kind in ("proxy", "proxy_index"):
            return self.proxy
        return "STANDARD"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key; raise ``BadInput`` otherwise.

    The same rules hold for S3, although S3 would accept more, so that no key exists that local storage
    cannot hold (and none can point outside the storage root).
    """
    hint = "keys are relative paths like 'masters/12.mkv'"
    if not isinstance(key, str) or not key:
        raise BadInput("storage key is empty", hint)
    if "\x00" in key or "\\" in key:
        raise BadInput(f"storage key {key!r} contains a NUL or a backslash", hint)
    if key.startswith("/") or (len(key) > 1 and key[1] == ":"):
        raise BadInput(f"storage key {key!r} is absolute", hint)
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise BadInput(f"storage key {key!r} has an empty, '.' or '..' segment", hint)
        if part.startswith(TEMP_PREFIX):
            raise BadInput(f"storage key {key!r} uses the reserved prefix {TEMP_PREFIX!r}", hint)
    return key


def validate_range(start: int, end: int) -> None:
    if start < 0 or end < start:
        raise BadInput(f"byte range [{start}, {end}) is invalid", "need 0 <= start <= end")


def new_file_mode() -> int:
    """0666 less the process's umask: what ``open()`` gives a new file, so an operator's umask (027 to keep
    media from other accounts, say) applies to stored files as to any other."""
    try:  # Linux shows the umask without changing it
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere reading it means setting it (and at once back)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_target(final: Path) -> Iterator[Path]:
    """Yield a temp path beside ``final``; on success fsync it and rename it over ``final``.

    Readers see either the old file or the whole new one, never a partial write; on failure the temp file
    is removed and ``final`` is untouched.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{final.name}.", dir=final.parent)
    os.close(fd)
    temp = Path(name)
    # mkstemp makes 0600 files; a stored file gets the mode any new file of the user gets.
    os.chmod(temp, new_file_mode())
    try:
        yield temp
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(final.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename into ``directory`` durable."""
    # Makes the rename itself durable; not every platform can open a directory, which is fine.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
