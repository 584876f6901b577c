"""Fetching sources: yt-dlp against a local web server, progress reports, error messages, stream merging."""

from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

import av
import pytest

from heaters.errors import DownloadError
from heaters.media.synthetic import make_video
from heaters.services.download import explain, fetch_url, format_spec, local_path_of, remux, title_from_name
from heaters.services.source_policy import public_addresses_only
from heaters.settings import Settings

pytestmark = pytest.mark.slow


def test_fetch_url_reports_progress_and_title(http_root: tuple[Path, str], tmp_path: Path) -> None:
    www, base = http_root
    truth = make_video(tmp_path / "clip.mp4", shot_frames=(30,), size=(160, 90))
    shutil.copy(truth.path, www / "Sea_View.mp4")
    target = tmp_path / "dl"
    target.mkdir()
    seen: list[tuple[int, int | None]] = []
    fetched = fetch_url(f"{base}/Sea_View.mp4", target, progress=lambda done, total: seen.append((done, total)))
    assert fetched.path.read_bytes() == truth.path.read_bytes()
    assert fetched.title == "Sea_View"
    size = truth.path.stat().st_size
    assert seen and seen[-1] == (size, size)


def test_a_download_connects_to_public_addresses_only(http_root: tuple[Path, str], tmp_path: Path) -> None:
    # Ingest checked the address once; a redirect or a changed DNS answer must not lead the download inside.
    www, base = http_root  # 127.0.0.1 stands for any local or private address here
    shutil.copy(make_video(tmp_path / "clip.mp4", shot_frames=(10,), size=(64, 36)).path, www / "v.mp4")
    strict, trusting = Settings.from_env({}), Settings.from_env({"HEATERS_ALLOW_PRIVATE_SOURCES": "true"})
    others: list[object] = []
    with public_addresses_only(strict):
        with pytest.raises(DownloadError, match="leads to a local or private address") as caught:
            fetch_url(f"{base}/v.mp4", tmp_path / "a")
        assert "HEATERS_ALLOW_PRIVATE_SOURCES" in caught.value.hint
        # Other threads (the worker's database and queue connections) are not held to it.
        thread = threading.Thread(target=lambda: others.append(socket.getaddrinfo("127.0.0.1", 80)))
        thread.start()
        thread.join()
    assert others and others[0]
    with public_addresses_only(trusting):
        assert fetch_url(f"{base}/v.mp4", tmp_path / "b").path.stat().st_size > 0
    assert fetch_url(f"{base}/v.mp4", tmp_path / "c").path.stat().st_size > 0  # off again after the block


@pytest.mark.parametrize(
    ("message", "words"),
    [
        pytest.param(
            "ERROR: Unable to download webpage: HTTP Error 404: Not Found", "was not found (HTTP 404)", id="404"
        ),
        pytest.param("ERROR: HTTP Error 403: Forbidden", "refused access (HTTP 403)", id="403"),
        pytest.param("ERROR: Unsupported URL: http://x/page", "no video found", id="unsupported"),
        pytest.param("ERROR: <urlopen error [Errno 111] Connection refused>", "connection refused", id="refused"),
        pytest.param("ERROR: <urlopen error [Errno -2] Name or service not known>", "cannot resolve", id="dns"),
        pytest.param("ERROR: The read operation timed out", "did not answer in time", id="timeout"),
        pytest.param("ERROR: something new\nmore detail", "download of http://x/v failed: something new", id="other"),
    ],
)
def test_explain_turns_yt_dlp_errors_into_sentences(message: str, words: str) -> None:
    error = explain("http://x/v", message)
    assert isinstance(error, DownloadError)
    assert words in error.message
    assert "ERROR:" not in error.message and error.hint


def test_format_spec_limits_height_and_merges_when_possible() -> None:
    assert format_spec(0, True) == "bv*+ba/b/b"
    assert format_spec(720, True) == "bv*[height<=720]+ba/b[height<=720]/b"
    assert "+" not in format_spec(1080, False)


def test_sources_and_titles(tmp_path: Path) -> None:
    assert local_path_of("file:///tmp/a%20b.mp4") == Path("/tmp/a b.mp4")
    assert local_path_of("https://example.com/v") is None
    assert local_path_of(str(tmp_path / "x.mp4")) == tmp_path / "x.mp4"
    assert title_from_name("/videos/My_holiday  2024.mkv") == "My holiday 2024"


def test_remux_joins_separate_video_and_audio_without_reencoding(tmp_path: Path) -> None:
    picture = make_video(tmp_path / "video.mp4", shot_frames=(40,), size=(160, 90))
    with_sound = make_video(tmp_path / "both.mp4", shot_frames=(40,), size=(160, 90), audio=True)
    audio_only = tmp_path / "audio.m4a"
    with av.open(str(with_sound.path)) as src, av.open(str(audio_only), "w", format="mp4") as dst:
        out = dst.add_stream_from_template(src.streams.audio[0])
        for packet in src.demux(src.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = out
                dst.mux(packet)
    merged = tmp_path / "merged.mkv"
    remux(picture.path, audio_only, merged)
    with av.open(str(merged)) as container:
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 1
        assert sum(1 for p in container.demux(container.streams.video[0]) if p.size) == 40


async def test_download_stage_records_progress(db: Settings, tmp_path: Path) -> None:
    from heaters.db.tables import SourceVideo
    from heaters.services import stages
    from heaters.services.ingest import ingest

    ctx = stages.StageContext.from_settings(db)
    truth = make_video(tmp_path / "v.mp4", shot_frames=(20,), size=(160, 90))
    video_id = await ingest(db, ctx.storage, str(truth.path))
    assert await stages.download(ctx, video_id) == "done"
    row = await SourceVideo.select().where(SourceVideo.id == video_id).output(load_json=True).first()
    size = truth.path.stat().st_size
    assert row["state"] == "downloaded"
    assert row["progress"]["stage"] == "download" and row["progress"]["percent"] == 100.0
    assert row["progress"]["bytes"] == size
    assert (row["width"], row["height"]) == (160, 90)
