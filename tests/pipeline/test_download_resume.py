"""A download killed half-way continues where it stopped: the next attempt asks only for the missing bytes; one
that trickles is given up on."""

from __future__ import annotations

import http.server
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from heaters.errors import DownloadError
from heaters.media.synthetic import make_video
from heaters.services.download import fetch_url

pytestmark = pytest.mark.slow


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one file with Range support (Python's own file server ignores Range) and records the ranges."""

    data = b""
    ranges: ClassVar[list[str | None]] = []

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        header = self.headers.get("Range")
        type(self).ranges.append(header)
        start, end = 0, len(self.data)
        if header and header.startswith("bytes="):
            first, _, last = header.removeprefix("bytes=").partition("-")
            start, end = int(first), (int(last) + 1 if last else len(self.data))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(self.data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if body:
            self.wfile.write(self.data[start:end])

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def range_server() -> Iterator[tuple[type[_RangeHandler], str]]:
    handler = type("Handler", (_RangeHandler,), {"ranges": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_partial_download_is_continued_not_restarted(range_server, tmp_path: Path) -> None:
    handler, base = range_server
    truth = make_video(tmp_path / "clip.mp4", shot_frames=(60,), size=(320, 180))
    handler.data = truth.path.read_bytes()
    target = tmp_path / "partial"
    target.mkdir()
    half = len(handler.data) // 2
    # What a worker killed half-way leaves behind.
    (target / "original.mp4.part").write_bytes(handler.data[:half])
    fetched = fetch_url(f"{base}/clip.mp4", target)
    assert fetched.path.read_bytes() == handler.data
    assert f"bytes={half}-" in handler.ranges
    assert not [r for r in handler.ranges if r in (None, "bytes=0-")][1:]  # at most the probe, not a refetch


def test_the_stage_keeps_a_partial_download_across_attempts(tmp_path: Path) -> None:
    from heaters.services.stages import StageContext
    from heaters.services.stages.videos import partial_download_dir
    from heaters.settings import Settings

    ctx = StageContext.from_settings(Settings.from_env({}, data_dir=tmp_path / "data"))
    partial = partial_download_dir(ctx, 7)
    partial.mkdir(parents=True)
    (partial / "original.mp4.part").write_bytes(b"x")
    # A new attempt's scratch space clears the earlier attempts' directories, not the partial download.
    with ctx.scratch("download", 7, 2):
        assert (partial / "original.mp4.part").exists()
    shutil.rmtree(partial)


class _TrickleHandler(http.server.BaseHTTPRequestHandler):
    """Promises ``promised`` bytes, sends ``burst`` of them at once, then 100 bytes a second."""

    promised, burst = 1 << 20, 0

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(self.promised))
        self.end_headers()
        try:
            self.wfile.write(b"\0" * self.burst)
            for _ in range((self.promised - self.burst) // 10):
                self.wfile.write(b"\0" * 10)
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:  # the client gave up
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _BurstThenTrickleHandler(_TrickleHandler):
    """4 MB at once, which grows yt-dlp's reads to their largest, then the trickle."""

    promised, burst = 64 << 20, 4 << 20


@pytest.mark.timeout(120)
@pytest.mark.parametrize("handler", [_TrickleHandler, _BurstThenTrickleHandler], ids=["trickle", "burst-then-trickle"])
def test_a_source_that_trickles_is_given_up_on_with_the_reason(tmp_path: Path, handler: type[_TrickleHandler]) -> None:
    # Not the hours the whole promised size would take. After a burst yt-dlp asks for megabytes in one read and
    # reports no progress until it ends: only the thread's reads tell.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        with pytest.raises(DownloadError, match="sends too slowly") as caught:
            fetch_url(f"http://127.0.0.1:{server.server_address[1]}/clip.mp4", tmp_path, stall=(3.0, 4096))
        assert time.monotonic() - started < 30
        assert "heaters retry" in caught.value.hint
        assert threading.active_count() < 10  # the watcher is gone with the download
    finally:
        server.shutdown()
        server.server_close()
