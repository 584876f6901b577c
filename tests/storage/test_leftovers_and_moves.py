"""Leftovers of killed writers are removed, and finished files move into storage without a second copy."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from heaters.services.janitor import sweep
from heaters.settings import Settings
from heaters.storage import LocalStorage, S3Storage

HOUR = 3600.0


def _aged(path: Path, seconds: float, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))
    return path


def test_local_storage_removes_only_old_temporary_files(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_bytes("masters/1.mkv", b"whole")
    old = _aged(store.root / "masters" / ".tmp-2.mkv.abc", 2 * HOUR)
    live = _aged(store.root / "clips" / "1" / ".tmp-3.mp4.def", 10)
    finished_but_old = _aged(store.root / "proxies" / "4.mp4", 2 * HOUR)

    assert store.remove_leftovers(time.time() - HOUR) == ["masters/.tmp-2.mkv.abc"]
    assert not old.exists()
    assert live.exists() and finished_but_old.exists()
    assert store.get_bytes("masters/1.mkv") == b"whole"


def test_s3_storage_aborts_only_old_incomplete_multipart_uploads(
    make_s3: Callable[..., S3Storage]
) -> None:
    store = make_s3()
    client = store.client
    client.create_multipart_upload(Bucket=store.bucket, Key="masters/9.mkv")
    store.put_bytes("masters/1.mkv", b"whole")

    # The age as S3 reports it (moto reports a fixed date in the past, so the test reads it back).
    initiated = client.list_multipart_uploads(Bucket=store.bucket)["Uploads"][0]["Initiated"].timestamp()
    assert store.remove_leftovers(initiated - 1) == []  # younger than the limit: still uploading
    assert store.remove_leftovers(initiated + 1) == ["masters/9.mkv"]
    assert client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert store.get_bytes("masters/1.mkv") == b"whole"


def test_sweep_removes_abandoned_uploads_and_scratch_space_but_not_live_ones(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path / "data", leftover_seconds=HOUR)
    store = LocalStorage(settings.resolved_storage_dir)
    uploads, work = settings.data_dir.resolve() / "uploads", settings.data_dir.resolve() / "work"
    abandoned = _aged(uploads / "tmp1" / "video.mp4", 2 * HOUR).parent
    os.utime(abandoned, (time.time() - 2 * HOUR,) * 2)
    # An upload still streaming: its directory is old but the file inside is being written.
    streaming = _aged(uploads / "tmp2" / "video.mp4", 10).parent
    os.utime(streaming, (time.time() - 2 * HOUR,) * 2)
    dead = _aged(work / "encode-7-1" / "master.mkv.part", 2 * HOUR).parent
    os.utime(dead, (time.time() - 2 * HOUR,) * 2)
    temp = _aged(store.root / "masters" / ".tmp-7.mkv.x", 2 * HOUR)

    swept = sweep(settings, store)
    assert swept.objects == ["masters/.tmp-7.mkv.x"]
    assert sorted(swept.directories) == sorted([abandoned, dead])
    assert not abandoned.exists() and not dead.exists() and not temp.exists()
    assert (streaming / "video.mp4").exists()
    assert not sweep(settings, store)  # nothing left to do


def test_local_move_renames_the_file_into_storage_without_a_copy(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    scratch = tmp_path / "work" / "master.mkv"
    scratch.parent.mkdir()
    scratch.write_bytes(b"lossless" * 1000)
    inode = scratch.stat().st_ino
    store.move_file("masters/3.mkv", scratch, "master")
    assert not scratch.exists()
    stored = store.root / "masters" / "3.mkv"
    assert stored.stat().st_ino == inode, "renamed, not copied"
    assert store.get_bytes("masters/3.mkv") == b"lossless" * 1000
    assert [p.name for p in stored.parent.iterdir()] == ["3.mkv"]


def test_s3_move_uploads_and_leaves_no_local_copy(make_s3: Callable[..., S3Storage], tmp_path: Path) -> None:
    store = make_s3()
    scratch = tmp_path / "clip.mp4"
    scratch.write_bytes(b"clip" * 1000)
    store.move_file("clips/1/2.mp4", scratch, "clip")
    assert not scratch.exists()
    assert store.get_bytes("clips/1/2.mp4") == b"clip" * 1000
