"""HTTP Range logic: parsing tables, status decisions, headers and byte-exact streaming."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from heaters.server.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    aiter_file,
    http_date,
    iter_file,
    make_etag,
    parse_range,
    plan_from_headers,
    plan_response,
)

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        pytest.param("bytes=0-0", 0, 1, id="first-byte"),
        pytest.param("bytes=0-499", 0, 500, id="first-half"),
        pytest.param("bytes=500-999", 500, 1000, id="second-half"),
        pytest.param("bytes=500-", 500, 1000, id="open-ended"),
        pytest.param("bytes=999-", 999, 1000, id="last-byte-open"),
        pytest.param("bytes=900-5000", 900, 1000, id="last-clamped"),
        pytest.param("bytes=-1", 999, 1000, id="suffix-1"),
        pytest.param("bytes=-100", 900, 1000, id="suffix-100"),
        pytest.param("bytes=-5000", 0, 1000, id="suffix-longer-than-file"),
        pytest.param("bytes=0-", 0, 1000, id="whole"),
        pytest.param("Bytes = 10-19", 10, 20, id="unit-case-and-spaces"),
        pytest.param("bytes=10-19, 30-39", 10, 20, id="multiple-first-served"),
        pytest.param("bytes=2000-3000, 5-9", 5, 10, id="multiple-first-satisfiable"),
        pytest.param("bytes=0-99999999999999999999999", 0, 1000, id="huge-last"),
    ],
)
def test_satisfiable_ranges(header: str, start: int, end: int) -> None:
    chosen = parse_range(header, SIZE)
    assert chosen == ByteRange(start, end, SIZE)
    assert chosen.content_range == f"bytes {start}-{end - 1}/{SIZE}"
    assert chosen.length == end - start


@pytest.mark.parametrize(
    ("header", "size"),
    [
        pytest.param("bytes=1000-", SIZE, id="start-at-size"),
        pytest.param("bytes=1000-1005", SIZE, id="start-past-end"),
        pytest.param("bytes=-0", SIZE, id="empty-suffix"),
        pytest.param("bytes=0-", 0, id="empty-file"),
        pytest.param("bytes=-10", 0, id="suffix-of-empty-file"),
        pytest.param("bytes=2000-, 3000-3001", SIZE, id="all-past-end"),
    ],
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.content_range == f"bytes */{size}"
    assert caught.value.status_code == 416


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("items=0-5", id="other-unit"),
        pytest.param("bytes 0-5", id="no-equals"),
        pytest.param("bytes=", id="no-spec"),
        pytest.param("bytes=-", id="dash-only"),
        pytest.param("bytes=5-2", id="last-before-first"),
        pytest.param("bytes=a-b", id="letters"),
        pytest.param("bytes=+1-5", id="plus-sign"),
        pytest.param("bytes=1--5", id="double-dash"),
        pytest.param("bytes=0-5,", id="trailing-comma"),
        pytest.param("bytes=0-5, x", id="one-bad-spec"),
        pytest.param("bytes=٣-٥", id="non-ascii-digits"),
    ],
)
def test_malformed_headers_are_ignored(header: str | None) -> None:
    assert parse_range(header, SIZE) is None


def test_numbers_of_any_length_are_read() -> None:
    huge = "9" * 5000  # past Python's limit for converting digits to an int
    assert parse_range(f"bytes=0-{huge}", SIZE) == ByteRange(0, SIZE, SIZE)
    assert parse_range(f"bytes=-{huge}", SIZE) == ByteRange(0, SIZE, SIZE)
    assert parse_range(f"bytes={'0' * 5000}7-", SIZE) == ByteRange(7, SIZE, SIZE)
    for beyond in (f"bytes={huge}-", f"bytes={huge}-{huge}"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(beyond, SIZE)


MTIME = 1_700_000_000.25
ETAG = make_etag(SIZE, MTIME)


def test_plain_get_is_200_with_validators() -> None:
    plan = plan_response(SIZE, MTIME)
    assert (plan.status, plan.start, plan.end) == (200, 0, SIZE)
    assert plan.headers == {
        "Accept-Ranges": "bytes",
        "ETag": ETAG,
        "Last-Modified": "Tue, 14 Nov 2023 22:13:20 GMT",
        "Content-Length": "1000",
    }


def test_range_is_206() -> None:
    plan = plan_response(SIZE, MTIME, range_header="bytes=100-199")
    assert (plan.status, plan.start, plan.end, plan.length) == (206, 100, 200, 100)
    assert plan.headers["Content-Range"] == "bytes 100-199/1000"
    assert plan.headers["Content-Length"] == "100"
    assert plan.headers["Accept-Ranges"] == "bytes"


def test_unsatisfiable_is_416_with_star_range() -> None:
    plan = plan_response(SIZE, MTIME, range_header="bytes=5000-")
    assert plan.status == 416
    assert plan.length == 0
    assert plan.headers["Content-Range"] == "bytes */1000"
    assert "Content-Length" not in plan.headers


def test_etag_changes_with_size_and_mtime() -> None:
    assert ETAG.startswith('"') and ETAG.endswith('"')
    assert make_etag(SIZE, MTIME + 0.001) != ETAG
    assert make_etag(SIZE + 1, MTIME) != ETAG
    assert make_etag(SIZE, MTIME) == ETAG


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"if_none_match": ETAG}, 304, id="inm-match"),
        pytest.param({"if_none_match": f"W/{ETAG}"}, 304, id="inm-weak-match"),
        pytest.param({"if_none_match": f'"other", {ETAG}'}, 304, id="inm-list"),
        pytest.param({"if_none_match": "*"}, 304, id="inm-star"),
        pytest.param({"if_none_match": '"other"'}, 200, id="inm-stale"),
        pytest.param({"if_none_match": '"other"', "range_header": "bytes=0-9"}, 206, id="inm-stale-range"),
        pytest.param({"if_modified_since": http_date(MTIME)}, 304, id="ims-same"),
        pytest.param({"if_modified_since": http_date(MTIME - 10)}, 200, id="ims-older"),
        pytest.param({"if_modified_since": "not a date"}, 200, id="ims-garbage"),
        pytest.param({"if_none_match": '"other"', "if_modified_since": http_date(MTIME)}, 200, id="inm-wins"),
        pytest.param({"range_header": "bytes=0-9", "if_range": ETAG}, 206, id="if-range-etag"),
        pytest.param({"range_header": "bytes=0-9", "if_range": '"stale"'}, 200, id="if-range-stale"),
        pytest.param({"range_header": "bytes=0-9", "if_range": f"W/{ETAG}"}, 200, id="if-range-weak"),
        pytest.param({"range_header": "bytes=0-9", "if_range": http_date(MTIME)}, 206, id="if-range-date"),
        pytest.param({"range_header": "bytes=0-9", "if_range": http_date(MTIME - 5)}, 200, id="if-range-old"),
        pytest.param({"range_header": "bytes=0-9", "if_range": "garbage"}, 200, id="if-range-garbage"),
        pytest.param({"range_header": "bytes=9999-", "if_range": '"stale"'}, 200, id="if-range-stale-416"),
    ],
)
def test_conditional_requests(headers: dict[str, str], status: int) -> None:
    plan = plan_response(SIZE, MTIME, **headers)  # type: ignore[arg-type]
    assert plan.status == status
    assert plan.headers["ETag"] == ETAG
    if status == 304:
        assert plan.length == 0 and "Content-Length" not in plan.headers
    if status == 200:
        assert (plan.start, plan.end) == (0, SIZE)


def test_plan_from_headers_is_case_insensitive() -> None:
    plan = plan_from_headers({"RANGE": "bytes=-10", "If-Range": ETAG}, SIZE, MTIME)
    assert (plan.status, plan.start, plan.end) == (206, 990, 1000)


@pytest.fixture
def blob(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(1_000_003)
    path = tmp_path / "proxy.mp4"
    path.write_bytes(data)
    return path, data


@pytest.mark.parametrize(("start", "end"), [(0, 1_000_003), (0, 1), (123, 456_789), (999_999, 1_000_003), (5, 5)])
def test_iter_file_is_byte_exact(blob: tuple[Path, bytes], start: int, end: int) -> None:
    path, data = blob
    chunks = list(iter_file(path, start, end, chunk=65_536))
    assert b"".join(chunks) == data[start:end]
    assert all(len(c) <= 65_536 for c in chunks)


async def test_aiter_file_is_byte_exact(blob: tuple[Path, bytes]) -> None:
    path, data = blob
    plan = plan_response(len(data), path.stat().st_mtime, range_header="bytes=1000-300000")
    chunks = [c async for c in aiter_file(path, plan.start, plan.end, chunk=100_000)]
    assert b"".join(chunks) == data[1000:300_001]
    assert [len(c) for c in chunks] == [100_000, 100_000, 99_001]


def test_iter_file_stops_at_a_shortened_file(blob: tuple[Path, bytes]) -> None:
    path, data = blob
    path.write_bytes(data[:100])
    assert b"".join(iter_file(path, 50, 1000)) == data[50:100]
