"""LocalStorage: keys stay inside the root, writes are atomic, reads are byte-exact."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from heaters.errors import BadInput, NotFound, StorageError
from heaters.settings import Settings
from heaters.storage import LocalStorage, S3Storage, StorageClasses, create_storage
from heaters.storage import local as local_module


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


def test_round_trip(store: LocalStorage, tmp_path: Path) -> None:
    store.put_bytes("proxies/1.index.json", b'{"frames": []}', kind="proxy_index")
    assert store.exists("proxies/1.index.json")
    assert store.get_bytes("proxies/1.index.json") == b'{"frames": []}'
    assert store.size("proxies/1.index.json") == 14
    assert store.local_path("proxies/1.index.json") == store.root / "proxies" / "1.index.json"
    assert store.url("proxies/1.index.json", kind="proxy_index") is None
    assert store.ensure_readable("proxies/1.index.json") is True

    source = tmp_path / "master.mkv"
    source.write_bytes(os.urandom(300_000))
    store.put_file("masters/1.mkv", source, kind="master")
    target = tmp_path / "out" / "copy.mkv"
    store.download("masters/1.mkv", target)
    assert target.read_bytes() == source.read_bytes()

    store.delete("proxies/1.index.json")
    assert not store.exists("proxies/1.index.json")
    store.delete("proxies/1.index.json")  # idempotent


def test_missing_key_is_not_found(store: LocalStorage, tmp_path: Path) -> None:
    for read in (store.get_bytes, store.size, store.ensure_readable):
        with pytest.raises(NotFound):
            read("masters/404.mkv")
    with pytest.raises(NotFound):
        store.download("masters/404.mkv", tmp_path / "x")
    with pytest.raises(NotFound):
        store.put_file("masters/1.mkv", tmp_path / "does-not-exist.mkv")
    assert not store.exists("masters/1.mkv")


def test_open_range_is_half_open_and_cut_at_the_end(store: LocalStorage) -> None:
    data = bytes(range(256)) * 4
    store.put_bytes("proxies/1.mp4", data)
    assert store.open_range("proxies/1.mp4", 0, 10) == data[:10]
    assert store.open_range("proxies/1.mp4", 1000, 2000) == data[1000:]
    assert store.open_range("proxies/1.mp4", 5000, 6000) == b""
    assert store.open_range("proxies/1.mp4", 7, 7) == b""
    with pytest.raises(BadInput):
        store.open_range("proxies/1.mp4", 10, 5)
    with pytest.raises(BadInput):
        store.open_range("proxies/1.mp4", -1, 5)


BAD_KEYS = [
    pytest.param("../outside.txt", id="parent"),
    pytest.param("clips/../../outside.txt", id="parent-deep"),
    pytest.param("/etc/passwd", id="absolute"),
    pytest.param("C:/Windows/x", id="drive"),
    pytest.param("clips\\..\\..\\outside.txt", id="backslash"),
    pytest.param("clips/a\x00b", id="nul"),
    pytest.param("", id="empty"),
    pytest.param("clips//1.mp4", id="empty-segment"),
    pytest.param("./clips/1.mp4", id="dot-segment"),
    pytest.param("clips/", id="trailing-slash"),
    pytest.param("clips/.tmp-1.mp4", id="reserved-temp-prefix"),
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_rejected_everywhere(store: LocalStorage, tmp_path: Path, key: str) -> None:
    calls: list[Any] = [
        lambda: store.put_bytes(key, b"x"),
        lambda: store.get_bytes(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.local_path(key),
        lambda: store.open_range(key, 0, 1),
    ]
    for call in calls:
        with pytest.raises(BadInput):
            call()
    assert not (tmp_path / "outside.txt").exists()


def test_symlink_out_of_root_is_rejected(store: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (store.root / "clips").mkdir()
    (store.root / "clips" / "escape").symlink_to(outside, target_is_directory=True)
    (store.root / "clips" / "secret.txt").symlink_to(outside / "secret.txt")

    with pytest.raises(BadInput):
        store.get_bytes("clips/escape/secret.txt")
    with pytest.raises(BadInput):
        store.get_bytes("clips/secret.txt")
    with pytest.raises(BadInput):
        store.put_bytes("clips/escape/new.txt", b"x")
    with pytest.raises(BadInput):
        store.delete("clips/escape/secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_symlink_inside_root_is_allowed(store: LocalStorage) -> None:
    store.put_bytes("masters/1.mkv", b"master")
    (store.root / "alias").symlink_to(store.root / "masters", target_is_directory=True)
    assert store.get_bytes("alias/1.mkv") == b"master"


def test_failed_write_leaves_no_file_and_keeps_the_old_one(
    store: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"n" * 100_000)

    def copy_half_then_fail(src: Any, dst: Any, length: int = 0) -> None:
        dst.write(src.read(50_000))
        dst.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_module.shutil, "copyfileobj", copy_half_then_fail)
    with pytest.raises(StorageError, match="No space left"):
        store.put_file("clips/1/2.mp4", source, kind="clip")
    assert not store.exists("clips/1/2.mp4")
    assert os.listdir(store.root / "clips" / "1") == []  # no temp file left behind

    monkeypatch.setattr(local_module.shutil, "copyfileobj", shutil.copyfileobj)
    store.put_bytes("clips/1/2.mp4", b"old")
    monkeypatch.setattr(local_module.shutil, "copyfileobj", copy_half_then_fail)
    with pytest.raises(StorageError):
        store.put_file("clips/1/2.mp4", source)
    assert store.get_bytes("clips/1/2.mp4") == b"old"
    assert os.listdir(store.root / "clips" / "1") == ["2.mp4"]


def test_overwrite_replaces_whole_file(store: LocalStorage) -> None:
    store.put_bytes("keyframes/3/0.jpg", b"a" * 1000)
    store.put_bytes("keyframes/3/0.jpg", b"b" * 10)
    assert store.get_bytes("keyframes/3/0.jpg") == b"b" * 10


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_stored_files_follow_the_umask(store: LocalStorage, tmp_path: Path, umask: int, mode: int) -> None:
    source = tmp_path / "scratch.mkv"
    source.write_bytes(b"x")
    previous = os.umask(umask)
    try:
        store.put_bytes("keyframes/3/0.jpg", b"a")
        store.put_file("clips/3.mp4", source)
        source.chmod(0o600)  # as a scratch file made by mkstemp would be
        store.move_file("masters/3.mkv", source)
    finally:
        os.umask(previous)
    for key in ("keyframes/3/0.jpg", "clips/3.mp4", "masters/3.mkv"):
        assert oct((store.root / key).stat().st_mode & 0o777) == oct(mode), key


def test_create_storage_follows_settings(tmp_path: Path) -> None:
    local = create_storage(Settings.from_env({}, data_dir=tmp_path / "data"))
    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "data" / "media").resolve()

    s3 = create_storage(
        Settings.from_env(
            {}, storage="s3", s3_bucket_name="media-bucket", gold_master_storage_class="GLACIER",
            proxy_storage_class="STANDARD_IA", proxy_cdn_domain="cdn.example.com", presign_seconds=600,
        )
    )
    assert isinstance(s3, S3Storage)
    assert s3.bucket == "media-bucket"
    assert s3.classes == StorageClasses(master="GLACIER", proxy="STANDARD_IA")
    assert s3.cdn_domain == "cdn.example.com"
    assert s3.presign_seconds == 600


def test_storage_classes_per_kind() -> None:
    classes = StorageClasses(master="GLACIER", proxy="STANDARD_IA")
    expected = {
        "original": "STANDARD", "master": "GLACIER", "proxy": "STANDARD_IA", "proxy_index": "STANDARD_IA",
        "clip": "STANDARD", "keyframe": "STANDARD", "features": "STANDARD", None: "STANDARD",
    }
    assert {kind: classes.for_kind(kind) for kind in expected} == expected  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        classes.for_kind("thumbnail")  # type: ignore[arg-type]
