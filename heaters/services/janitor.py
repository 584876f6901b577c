"""The janitor, a duty of the dispatcher: remove what killed writers and abandoned uploads leave behind.

* storage: temporary objects of writes that never finished (``.tmp-*`` files in local storage, incomplete
  multipart uploads on S3);
* ``<data>/uploads``: spool directories of web uploads whose request died before the file reached storage;
* ``<data>/work``: scratch directories of attempts whose worker died and whose row nobody claimed again.

Only what has not changed for ``HEATERS_LEFTOVER_SECONDS`` is removed: a write, an upload or an encode in
progress keeps touching its files, so nothing that is still alive is ever that old.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from heaters.settings import Settings
from heaters.storage import Storage

log = logging.getLogger(__name__)

# At most this long between two sweeps; walking a large storage tree every dispatcher tick would be waste.
SWEEP_EVERY_SECONDS = 3600.0


@dataclass
class Swept:
    """What one sweep removed: storage keys (or temporary names) and local directories."""

    objects: list[str] = field(default_factory=list)
    directories: list[Path] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.objects or self.directories)


def sweep(settings: Settings, storage: Storage, *, at: float | None = None) -> Swept:
    """Remove every leftover older than ``settings.leftover_seconds`` as of ``at`` (default: now)."""
    before = (time.time() if at is None else at) - settings.leftover_seconds
    swept = Swept(objects=storage.remove_leftovers(before))
    data = settings.data_dir.resolve()
    for spool in (data / "uploads", data / "work"):
        swept.directories.extend(_remove_stale_entries(spool, before))
    if swept:
        log.info("janitor removed %d temporary objects and %d directories", len(swept.objects), len(swept.directories))
    return swept


def sweep_interval(settings: Settings) -> float:
    """Seconds between sweeps: often enough that a leftover lives at most about 1.25 × its age limit."""
    return max(settings.dispatch_seconds, min(SWEEP_EVERY_SECONDS, settings.leftover_seconds / 4))


def _remove_stale_entries(root: Path, before: float) -> list[Path]:
    if not root.is_dir():
        return []
    removed = []
    for entry in root.iterdir():
        try:
            if _newest_change(entry) >= before:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:  # finished and removed by its owner meanwhile
            continue
        removed.append(entry)
    return removed


def _newest_change(path: Path) -> float:
    """The latest modification time of ``path`` and, for a directory, of anything inside it."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for directory, dirs, files in os.walk(path):
            for name in (*dirs, *files):
                try:
                    newest = max(newest, (Path(directory) / name).lstat().st_mtime)
                except FileNotFoundError:
                    continue
    return newest
