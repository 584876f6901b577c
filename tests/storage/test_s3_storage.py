"""S3Storage against a real S3 protocol endpoint (moto server)."""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from heaters.errors import BadInput, ColdStorage, ConfigError, NotFound
from heaters.settings import Settings
from heaters.storage import S3Storage, StorageClasses, create_storage

MakeS3 = Callable[..., S3Storage]


def test_round_trip(make_s3: MakeS3, tmp_path: Path) -> None:
    store = make_s3()
    store.put_bytes("proxies/1.index.json", b'{"frames": []}', kind="proxy_index")
    assert store.exists("proxies/1.index.json")
    assert store.get_bytes("proxies/1.index.json") == b'{"frames": []}'
    assert store.size("proxies/1.index.json") == 14
    assert store.local_path("proxies/1.index.json") is None
    assert store.ensure_readable("proxies/1.index.json") is True

    source = tmp_path / "clip.mp4"
    source.write_bytes(os.urandom(200_000))
    store.put_file("clips/1/2.mp4", source, kind="clip")
    store.download("clips/1/2.mp4", tmp_path / "down" / "2.mp4")
    assert (tmp_path / "down" / "2.mp4").read_bytes() == source.read_bytes()
    assert [p.name for p in (tmp_path / "down").iterdir()] == ["2.mp4"]

    store.delete("proxies/1.index.json")
    assert not store.exists("proxies/1.index.json")
    store.delete("proxies/1.index.json")  # idempotent


def test_missing_objects_and_bad_keys(make_s3: MakeS3, tmp_path: Path) -> None:
    store = make_s3()
    for read in (store.get_bytes, store.size, store.ensure_readable):
        with pytest.raises(NotFound):
            read("masters/404.mkv")
    with pytest.raises(NotFound):
        store.open_range("masters/404.mkv", 0, 10)
    with pytest.raises(NotFound):
        store.download("masters/404.mkv", tmp_path / "x.mkv")
    assert not (tmp_path / "x.mkv").exists()
    with pytest.raises(BadInput):
        store.put_bytes("../escape", b"x")
    with pytest.raises(BadInput):
        store.url("/abs")


def test_missing_bucket_is_a_config_error(s3_endpoint: str, s3_credentials: str) -> None:
    store = S3Storage("heaters-no-such-bucket", endpoint_url=s3_endpoint)
    with pytest.raises(ConfigError, match="does not exist"):
        store.put_bytes("a/b", b"x")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param("master", "STANDARD_IA", id="master"),
        pytest.param("proxy", "ONEZONE_IA", id="proxy"),
        pytest.param("proxy_index", "ONEZONE_IA", id="proxy-index"),
        pytest.param("original", "STANDARD", id="original"),
        pytest.param("clip", "STANDARD", id="clip"),
        pytest.param("keyframe", "STANDARD", id="keyframe"),
        pytest.param(None, "STANDARD", id="no-kind"),
    ],
)
def test_storage_class_per_kind(make_s3: MakeS3, s3_client: Any, s3_bucket: str, kind: Any, expected: str) -> None:
    store = make_s3(classes=StorageClasses(master="STANDARD_IA", proxy="ONEZONE_IA"))
    store.put_bytes("objects/a.bin", b"abc", kind=kind)
    head = s3_client.head_object(Bucket=s3_bucket, Key="objects/a.bin")
    # S3 leaves StorageClass out of HEAD for STANDARD objects.
    assert head.get("StorageClass", "STANDARD") == expected


def test_large_file_goes_up_in_parts(
    make_s3: MakeS3, s3_client: Any, s3_bucket: str, tmp_path: Path
) -> None:
    store = make_s3(multipart_threshold=5 * 2**20, classes=StorageClasses(master="STANDARD_IA"))
    source = tmp_path / "master.mkv"
    source.write_bytes(os.urandom(11 * 2**20))
    store.put_file("masters/7.mkv", source, kind="master")
    head = s3_client.head_object(Bucket=s3_bucket, Key="masters/7.mkv")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart ETag names its part count
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ContentType"] == "video/x-matroska"
    assert store.get_bytes("masters/7.mkv") == source.read_bytes()

    small = tmp_path / "small.mp4"
    small.write_bytes(os.urandom(1000))
    store.put_file("clips/7/1.mp4", small, kind="clip")
    head = s3_client.head_object(Bucket=s3_bucket, Key="clips/7/1.mp4")
    assert "-" not in head["ETag"]
    assert head["ContentType"] == "video/mp4"


def test_ranged_reads_are_byte_exact(make_s3: MakeS3) -> None:
    store = make_s3()
    data = os.urandom(100_000)
    store.put_bytes("proxies/3.mp4", data, kind="proxy")
    for start, end in [(0, 1), (0, 100_000), (12_345, 54_321), (99_999, 100_000), (90_000, 200_000)]:
        assert store.open_range("proxies/3.mp4", start, end) == data[start:end], (start, end)
    assert store.open_range("proxies/3.mp4", 100_000, 100_010) == b""
    assert store.open_range("proxies/3.mp4", 500, 500) == b""
    with pytest.raises(BadInput):
        store.open_range("proxies/3.mp4", 10, 2)


def test_presigned_url_is_fetchable_and_expires(make_s3: MakeS3, s3_credentials: str) -> None:
    store = make_s3(presign_seconds=900)
    store.put_bytes("clips/1/2.mp4", b"clip bytes", kind="clip")
    url = store.url("clips/1/2.mp4", kind="clip")
    assert url is not None
    # The server here does not check expiry, so check the signed parameter itself.
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["900"]
    assert "X-Amz-Signature" in query
    assert s3_credentials not in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"clip bytes"


def test_cdn_url_for_proxies_only(make_s3: MakeS3) -> None:
    store = make_s3(cdn_domain="https://cdn.example.com/")
    assert store.url("proxies/5.mp4", kind="proxy") == "https://cdn.example.com/proxies/5.mp4"
    assert store.url("proxies/5.index.json", kind="proxy_index") == "https://cdn.example.com/proxies/5.index.json"
    assert store.url("proxies/a b.mp4", kind="proxy") == "https://cdn.example.com/proxies/a%20b.mp4"
    master_url = store.url("masters/5.mkv", kind="master")
    assert master_url is not None and "X-Amz-Signature" in master_url


def test_presign_lifetime_is_bounded(s3_endpoint: str) -> None:
    with pytest.raises(ConfigError):
        S3Storage("bucket", endpoint_url=s3_endpoint, presign_seconds=8 * 24 * 3600)
    with pytest.raises(ConfigError):
        S3Storage("", endpoint_url=s3_endpoint)


@pytest.mark.parametrize("archive_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_archived_master_is_restored_before_reading(
    make_s3: MakeS3, s3_client: Any, s3_bucket: str, tmp_path: Path, archive_class: str
) -> None:
    store = make_s3(classes=StorageClasses(master=archive_class))
    store.put_bytes("masters/9.mkv", b"lossless", kind="master")

    with pytest.raises(ColdStorage, match="archive storage"):
        store.get_bytes("masters/9.mkv")
    with pytest.raises(ColdStorage):
        store.open_range("masters/9.mkv", 0, 4)
    with pytest.raises(ColdStorage):
        store.download("masters/9.mkv", tmp_path / "9.mkv")
    assert not (tmp_path / "9.mkv").exists()
    assert "Restore" not in s3_client.head_object(Bucket=s3_bucket, Key="masters/9.mkv")

    assert store.ensure_readable("masters/9.mkv") is False  # restore requested; the caller waits
    assert "Restore" in s3_client.head_object(Bucket=s3_bucket, Key="masters/9.mkv")
    # The test server finishes restores at once; real Glacier takes minutes to hours.
    assert store.ensure_readable("masters/9.mkv") is True
    assert store.get_bytes("masters/9.mkv") == b"lossless"
    assert store.open_range("masters/9.mkv", 4, 8) == b"less"


def test_instant_retrieval_class_is_readable_at_once(make_s3: MakeS3) -> None:
    store = make_s3(classes=StorageClasses(master="GLACIER_IR"))
    store.put_bytes("masters/10.mkv", b"lossless", kind="master")
    assert store.ensure_readable("masters/10.mkv") is True
    assert store.get_bytes("masters/10.mkv") == b"lossless"


def test_secret_is_never_logged(make_s3: MakeS3, s3_credentials: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = make_s3(classes=StorageClasses(master="GLACIER"))
    store.put_bytes("masters/11.mkv", b"x", kind="master")
    store.ensure_readable("masters/11.mkv")
    store.url("masters/11.mkv")
    assert caplog.records, "debug logging should have produced records to check"
    assert s3_credentials not in caplog.text


def test_create_storage_talks_to_the_endpoint(s3_endpoint: str, s3_bucket: str, s3_client: Any) -> None:
    settings = Settings.from_env(
        {}, storage="s3", s3_bucket_name=s3_bucket, s3_endpoint_url=s3_endpoint, proxy_storage_class="STANDARD_IA"
    )
    store = create_storage(settings)
    store.put_bytes("proxies/1.mp4", b"proxy", kind="proxy")
    assert s3_client.head_object(Bucket=s3_bucket, Key="proxies/1.mp4")["StorageClass"] == "STANDARD_IA"
    assert store.get_bytes("proxies/1.mp4") == b"proxy"
