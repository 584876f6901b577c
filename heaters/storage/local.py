"""Local directory storage: the embedded default. Keys map to files under one root."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from heaters.errors import BadInput, NotFound, StorageError
from heaters.storage.base import (
    TEMP_PREFIX,
    Kind,
    atomic_target,
    fsync_dir,
    new_file_mode,
    validate_key,
    validate_range,
)

_COPY_CHUNK = 1024 * 1024


class LocalStorage:
    """Files under ``root``; every write is atomic (temp file in the same directory, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = self.root / key
        # resolve() follows symlinks already on disk, so a link inside the root that points elsewhere is
        # caught here, for reads and writes alike.
        if not path.resolve().is_relative_to(self.root):
            raise BadInput(f"storage key {key!r} leads outside the storage root", "remove the symlink")
        return path

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"no stored object {key!r}", "looked in the storage root (HEATERS_STORAGE_DIR)")
        return path

    def put_file(self, key: str, local_path: Path, kind: Kind | None = None) -> None:
        target = self._path(key)
        try:
            with atomic_target(target) as temp, open(local_path, "rb") as src, open(temp, "wb") as dst:
                shutil.copyfileobj(src, dst, _COPY_CHUNK)
        except FileNotFoundError as exc:
            raise NotFound(f"cannot store {key!r}: {local_path} does not exist") from exc
        except OSError as exc:
            raise StorageError(f"cannot store {key!r}: {exc}", "check free space and permissions") from exc

    def move_file(self, key: str, local_path: Path, kind: Kind | None = None) -> None:
        """Store ``local_path`` under ``key`` by renaming it (no second copy of a many-GB file); the file is
        gone afterwards. Across filesystems, where no rename is possible, it is copied and then removed."""
        target = self._path(key)
        source = Path(local_path)
        try:
            with open(source, "rb+") as f:  # durable before it becomes visible under its key
                os.fsync(f.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        except FileNotFoundError as exc:
            raise NotFound(f"cannot store {key!r}: {local_path} does not exist") from exc
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise StorageError(f"cannot store {key!r}: {exc}", "check free space and permissions") from exc
            self.put_file(key, source, kind)
            source.unlink()
            return
        os.chmod(target, new_file_mode())
        fsync_dir(target.parent)

    def put_bytes(self, key: str, data: bytes, kind: Kind | None = None) -> None:
        target = self._path(key)
        try:
            with atomic_target(target) as temp:
                temp.write_bytes(data)
        except OSError as exc:
            raise StorageError(f"cannot store {key!r}: {exc}", "check free space and permissions") from exc

    def get_bytes(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def download(self, key: str, local_path: Path) -> None:
        source = self._existing(key)
        with atomic_target(Path(local_path)) as temp:
            shutil.copyfile(source, temp)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (actors retry)."""
        self._path(key).unlink(missing_ok=True)

    def open_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)``, cut short at the end of the object."""
        validate_range(start, end)
        with open(self._existing(key), "rb") as f:
            f.seek(start)
            return f.read(end - start)

    def url(self, key: str, kind: Kind | None = None, disposition: str | None = None) -> str | None:
        self._path(key)
        return None

    def local_path(self, key: str) -> Path | None:
        """The file that holds ``key`` (it may not exist yet)."""
        return self._path(key)

    def ensure_readable(self, key: str) -> bool:
        self._existing(key)
        return True

    def remove_leftovers(self, before: float) -> list[str]:
        """Remove temporary files of writes that never finished (the writer was killed) last modified before
        ``before`` (a Unix time); return their paths relative to the root. A write in progress keeps its
        temporary file's modification time fresh, so only abandoned ones are old."""
        removed = []
        for directory, _dirs, files in os.walk(self.root):
            for name in files:
                if not name.startswith(TEMP_PREFIX):
                    continue
                path = Path(directory) / name
                try:
                    if path.stat().st_mtime < before:
                        path.unlink()
                        removed.append(path.relative_to(self.root).as_posix())
                except FileNotFoundError:  # finished (renamed) or removed meanwhile
                    continue
        return removed
