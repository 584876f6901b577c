"""HTTP Range requests (RFC 9110 §14) as plain values: parse, decide the status, build headers, stream.

Nothing here knows the web framework: a media handler calls ``plan_response`` with the file's size and
mtime and the request headers, then sends ``plan.status``, ``plan.headers`` and, for 200/206,
``iter_file(path, plan.start, plan.end)`` (nothing for HEAD, 304 and 416).

Ranges are half-open here (``end`` exclusive); the wire format's inclusive last byte appears only in
``Content-Range``. Of several ranges in one header only the first satisfiable one is served, as a plain 206
(no multipart/byteranges): browsers and media players ask for one range at a time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from heaters.errors import HeatersError

CHUNK = 256 * 1024
_SPEC = re.compile(r"^([0-9]*)-([0-9]*)$")


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``[start, end)`` of a resource of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end - 1}/{self.size}"


class RangeNotSatisfiable(HeatersError):
    """No requested range overlaps the resource; answer 416 with ``Content-Range: bytes */size``."""

    status_code = 416
    kind = "range_not_satisfiable"

    def __init__(self, header: str, size: int) -> None:
        super().__init__(f"range {header!r} is outside the {size} bytes of the resource")
        self.size = size

    @property
    def content_range(self) -> str:
        return f"bytes */{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to serve for a ``Range`` header, or None to serve the whole resource.

    None for a missing header, another unit than ``bytes`` or a malformed value (RFC 9110 lets a server
    ignore those). Raises ``RangeNotSatisfiable`` when the header is valid but no range fits in ``size``.
    """
    if not header:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parsed: list[tuple[str, str]] = []
    for raw in specs.split(","):
        match = _SPEC.match(raw.strip())
        if not match or match.group(1) == match.group(2) == "":
            return None
        first, last = match.groups()
        if first and last and _number(last) < _number(first):
            return None
        parsed.append((first, last))
    for first, last in parsed:
        chosen = _satisfy(first, last, size)
        if chosen is not None:
            return chosen
    raise RangeNotSatisfiable(header, size)


BEYOND = 10**18  # larger than any file; what a longer number of bytes means


def _number(digits: str) -> int:
    """A byte position as sent; any beyond BEYOND as BEYOND (a number of thousands of digits would not even
    convert)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else BEYOND


def _satisfy(first: str, last: str, size: int) -> ByteRange | None:
    if not first:  # suffix range: the last n bytes
        n = _number(last)
        if n == 0 or size == 0:
            return None
        return ByteRange(max(0, size - n), size, size)
    start = _number(first)
    if start >= size:
        return None
    end = size if not last else min(_number(last) + 1, size)
    return ByteRange(start, end, size)


def make_etag(size: int, mtime: float) -> str:
    """A strong validator from size and mtime (microseconds), the way static file servers make one."""
    return f'"{size:x}-{round(mtime * 1_000_000):x}"'


def http_date(mtime: float) -> str:
    return formatdate(mtime, usegmt=True)


@dataclass(frozen=True)
class RangePlan:
    """What to answer: status, headers, and the body bytes ``[start, end)`` (empty for 304/416/HEAD)."""

    status: int
    start: int
    end: int
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return self.end - self.start


def plan_response(
    size: int,
    mtime: float,
    *,
    range_header: str | None = None,
    if_range: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: str | None = None,
) -> RangePlan:
    """Decide between 200, 206, 304 and 416 for a GET or HEAD of a file of ``size`` bytes."""
    etag = make_etag(size, mtime)
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Last-Modified": http_date(mtime)}
    # RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since, and both come before Range.
    if if_none_match is not None:
        if _etag_listed(if_none_match, etag):
            return RangePlan(304, 0, 0, headers)
    elif if_modified_since is not None:
        since = _parse_date(if_modified_since)
        if since is not None and int(mtime) <= since:
            return RangePlan(304, 0, 0, headers)
    wanted = range_header if if_range is None or _if_range_holds(if_range, etag, mtime) else None
    try:
        chosen = parse_range(wanted, size)
    except RangeNotSatisfiable as exc:
        return RangePlan(416, 0, 0, {**headers, "Content-Range": exc.content_range})
    if chosen is None:
        return RangePlan(200, 0, size, {**headers, "Content-Length": str(size)})
    return RangePlan(
        206,
        chosen.start,
        chosen.end,
        {**headers, "Content-Range": chosen.content_range, "Content-Length": str(chosen.length)},
    )


def plan_from_headers(request_headers: Mapping[str, str], size: int, mtime: float) -> RangePlan:
    """``plan_response`` with the conditional headers taken from a request's header mapping."""
    lowered = {k.lower(): v for k, v in request_headers.items()}
    return plan_response(
        size,
        mtime,
        range_header=lowered.get("range"),
        if_range=lowered.get("if-range"),
        if_none_match=lowered.get("if-none-match"),
        if_modified_since=lowered.get("if-modified-since"),
    )


def _etag_listed(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison: W/"x" matches "x".
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _if_range_holds(if_range: str, etag: str, mtime: float) -> bool:
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # strong comparison; a weak tag never matches
    since = _parse_date(value)
    return since is not None and since == int(mtime)


def _parse_date(value: str) -> int | None:
    try:
        return int(parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def iter_file(path: Path, start: int, end: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """Yield bytes ``[start, end)`` of ``path`` in chunks; stops early if the file got shorter."""
    with open(path, "rb") as f:
        f.seek(start)
        remaining = end - start
        while remaining > 0:
            data = f.read(min(chunk, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


async def aiter_file(path: Path, start: int, end: int, chunk: int = CHUNK) -> AsyncIterator[bytes]:
    """``iter_file`` for async servers: each read runs in a worker thread, off the event loop."""
    f = await asyncio.to_thread(open, path, "rb")
    try:
        await asyncio.to_thread(f.seek, start)
        remaining = end - start
        while remaining > 0:
            data = await asyncio.to_thread(f.read, min(chunk, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data
    finally:
        await asyncio.to_thread(f.close)
