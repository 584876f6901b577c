"""Outputs are written under a ``.part`` name and get their real name only when they are complete.

A worker killed mid-write leaves at most a ``.part`` file (removed with its scratch directory), never half a
file under the name a later stage or a reader trusts. ``staged`` hands out the ``.part`` paths and removes
whatever was not published when the block ends, by success or by error; ``publish`` renames finished parts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PART = ".part"


@contextmanager
def staged(*finals: str | Path) -> Iterator[list[Path]]:
    """The ``.part`` path of each of ``finals``; the ones not published are removed on leaving."""
    parts = [Path(final).with_name(Path(final).name + PART) for final in finals]
    try:
        yield parts
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


def publish(*parts: Path) -> None:
    """Give finished parts their final names (a rename in one directory: readers see all or nothing)."""
    for part in parts:
        os.replace(part, part.with_name(part.name.removesuffix(PART)))
