"""MasterCache: one download per key per host, LRU eviction that never removes a copy in use."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from heaters.errors import NotFound
from heaters.settings import Settings
from heaters.storage import LocalStorage, MasterCache, S3Storage


class CountingS3(S3Storage):
    """S3Storage that counts downloads, so a test can prove the cache shares one copy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.downloads: list[str] = []
        self._count_lock = threading.Lock()

    def download(self, key: str, local_path: Path) -> None:
        with self._count_lock:
            self.downloads.append(key)
        time.sleep(0.2)  # widen the window in which other threads could start their own download
        super().download(key, local_path)


@pytest.fixture
def counting_s3(s3_endpoint: str, s3_bucket: str) -> CountingS3:
    return CountingS3(s3_bucket, endpoint_url=s3_endpoint)


def test_concurrent_opens_share_one_download(counting_s3: CountingS3, tmp_path: Path) -> None:
    data = os.urandom(3 * 2**20)
    counting_s3.put_bytes("masters/1.mkv", data, kind="master")
    cache = MasterCache(tmp_path / "cache", max_bytes=100 * 2**20)
    barrier = threading.Barrier(4)
    seen: list[tuple[Path, bool]] = []
    errors: list[BaseException] = []

    def export() -> None:
        try:
            barrier.wait()
            with cache.open(counting_s3, "masters/1.mkv") as path:
                seen.append((path, path.read_bytes() == data))
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=export) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert counting_s3.downloads == ["masters/1.mkv"]
    assert len(seen) == 4 and all(ok for _, ok in seen)
    assert len({path for path, _ in seen}) == 1

    with cache.open(counting_s3, "masters/1.mkv") as path:
        assert path.read_bytes() == data
    assert len(counting_s3.downloads) == 1


def test_replaced_master_is_downloaded_again(counting_s3: CountingS3, tmp_path: Path) -> None:
    cache = MasterCache(tmp_path / "cache", max_bytes=2**20)
    counting_s3.put_bytes("masters/2.mkv", b"first", kind="master")
    with cache.open(counting_s3, "masters/2.mkv") as path:
        assert path.read_bytes() == b"first"
    counting_s3.put_bytes("masters/2.mkv", b"second take", kind="master")
    with cache.open(counting_s3, "masters/2.mkv") as path:
        assert path.read_bytes() == b"second take"
    assert len(counting_s3.downloads) == 2


def _fill(store: S3Storage, n: int, size: int) -> list[str]:
    keys = [f"masters/{i}.mkv" for i in range(n)]
    for key in keys:
        store.put_bytes(key, os.urandom(size), kind="master")
    return keys


def _use(cache: MasterCache, store: S3Storage, key: str) -> None:
    with cache.open(store, key):
        pass
    time.sleep(0.02)  # distinct mtimes, so the LRU order is unambiguous


def test_eviction_keeps_the_cache_under_its_bound_lru_first(counting_s3: CountingS3, tmp_path: Path) -> None:
    cache = MasterCache(tmp_path / "cache", max_bytes=2500)
    a, b, c = _fill(counting_s3, 3, 1000)
    _use(cache, counting_s3, a)
    _use(cache, counting_s3, b)
    _use(cache, counting_s3, a)  # a is now more recent than b
    _use(cache, counting_s3, c)
    assert cache.cached_bytes() <= 2500
    assert cache.path_for(a).exists()
    assert not cache.path_for(b).exists()
    assert cache.path_for(c).exists()
    assert len(counting_s3.downloads) == 3


def test_copies_in_use_are_never_evicted(counting_s3: CountingS3, tmp_path: Path) -> None:
    cache = MasterCache(tmp_path / "cache", max_bytes=1500)
    a, b, c = _fill(counting_s3, 3, 1000)
    with cache.open(counting_s3, a) as held_a:
        with cache.open(counting_s3, b) as held_b:
            # Both pinned: over the bound, yet neither may go.
            assert held_a.exists() and held_b.exists()
            assert cache.cached_bytes() == 2000
        _use(cache, counting_s3, c)
        assert held_a.exists()
        assert held_a.stat().st_size == 1000
    assert not cache.path_for(b).exists()
    assert cache.cached_bytes() <= 1500 + 1000  # a stays until the next eviction
    assert cache.evict() == [cache.path_for(a)]
    assert cache.cached_bytes() <= 1500


def test_local_storage_is_used_in_place(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    store.put_bytes("masters/1.mkv", b"master")
    cache = MasterCache(tmp_path / "cache", max_bytes=10)
    with cache.open(store, "masters/1.mkv") as path:
        assert path == store.root / "masters" / "1.mkv"
    assert cache.cached_bytes() == 0
    with pytest.raises(NotFound), cache.open(store, "masters/2.mkv"):
        pass


def test_missing_key_leaves_nothing_behind(make_s3: Callable[..., S3Storage], tmp_path: Path) -> None:
    cache = MasterCache(tmp_path / "cache", max_bytes=10)
    with pytest.raises(NotFound), cache.open(make_s3(), "masters/404.mkv"):
        pass
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")] == []


def test_from_settings(tmp_path: Path) -> None:
    cache = MasterCache.from_settings(Settings.from_env({}, data_dir=tmp_path, master_cache_bytes=1234))
    assert cache.root == tmp_path / "cache" / "masters"
    assert cache.max_bytes == 1234


CHILD = """
import sys, time
from pathlib import Path
from heaters.storage import MasterCache, S3Storage

endpoint, bucket, cache_dir, counter, hold = sys.argv[1:6]

class Counting(S3Storage):
    def download(self, key, local_path):
        with open(counter, "a") as f:
            f.write(key + "\\n")
        time.sleep(0.3)
        super().download(key, local_path)

store = Counting(bucket, endpoint_url=endpoint)
with MasterCache(Path(cache_dir), max_bytes=0).open(store, "masters/1.mkv") as path:
    assert path.read_bytes() == b"m" * 5000
    print("ready", flush=True)
    if hold == "hold":
        sys.stdin.readline()
"""


def test_processes_share_one_copy_and_never_evict_a_pinned_one(
    s3_endpoint: str, s3_bucket: str, make_s3: Callable[..., S3Storage], tmp_path: Path
) -> None:
    import subprocess
    import sys

    make_s3().put_bytes("masters/1.mkv", b"m" * 5000, kind="master")
    cache_dir, counter = tmp_path / "cache", tmp_path / "downloads.txt"
    args = [sys.executable, "-c", CHILD, s3_endpoint, s3_bucket, str(cache_dir), str(counter)]

    children = [subprocess.Popen([*args, "hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                for _ in range(3)]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
        assert counter.read_text().splitlines() == ["masters/1.mkv"]
        # The bound is 0, but every child still holds the copy: eviction must leave it alone.
        cache = MasterCache(cache_dir, max_bytes=0)
        assert cache.evict() == []
        assert cache.path_for("masters/1.mkv").exists()
    finally:
        for child in children:
            child.communicate("\n", timeout=30)
    assert [child.returncode for child in children] == [0, 0, 0]
    assert cache.evict() == [cache.path_for("masters/1.mkv")]
