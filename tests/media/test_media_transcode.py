from __future__ import annotations

import base64
import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from heaters.media.features import COLUMNS
from heaters.media.frame_index import build_index, index_window
from heaters.media.scenes import detect_features
from heaters.media.synthetic import ShotSpec, make_video
from heaters.media.transcode import proxy_size, transcode

from .conftest import decode_numbers


def _keyframe_flags(path: Path) -> list[bool]:
    with av.open(str(path)) as container:
        return [p.is_keyframe for p in container.demux(video=0) if p.size]


@pytest.fixture(scope="module")
def transcoded(media_dir, clip_with_audio):
    seen: list[tuple[int, int]] = []
    result = transcode(
        clip_with_audio.path, media_dir / "master.mkv", media_dir / "proxy.mp4",
        progress=lambda done, total: seen.append((done, total)),
    )
    return result, seen


def test_master_proxy_and_index_agree_frame_for_frame(transcoded, media_dir, clip_with_audio) -> None:
    result, seen = transcoded
    assert result.total_frames == clip_with_audio.frames == result.index["frames"]
    expected = list(range(clip_with_audio.frames))
    assert decode_numbers(media_dir / "master.mkv") == expected
    assert decode_numbers(media_dir / "proxy.mp4") == expected
    assert seen[-1] == (result.total_frames, result.total_frames)
    assert all(a <= b for (a, _), (b, _) in itertools.pairwise(seen))


def test_master_is_lossless_ffv1_with_flac(transcoded, media_dir) -> None:
    with av.open(str(media_dir / "master.mkv")) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "ffv1"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (video.codec_context.width, video.codec_context.height) == (320, 180)
        assert audio.codec_context.name == "flac"
    assert transcoded[0].has_audio


def test_proxy_is_all_intra_tagged_h264(transcoded, media_dir) -> None:
    proxy = media_dir / "proxy.mp4"
    assert all(_keyframe_flags(proxy))
    with av.open(str(proxy)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]  # review has sound
        sound = container.streams.audio[0].codec_context
        assert (sound.name, sound.sample_rate) == ("aac", 48000)
        cc = container.streams.video[0].codec_context
        assert (cc.name, cc.pix_fmt) == ("h264", "yuv420p")
        assert (int(cc.colorspace), int(cc.color_primaries), int(cc.color_trc)) == (6, 6, 6)  # BT.601 source
        assert cc.max_b_frames == 0 or cc.has_b_frames == 0
    data = proxy.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # faststart


def test_index_layout_and_byte_ranges(transcoded, media_dir) -> None:
    index = transcoded[0].index
    assert list(index) == ["version", "codec", "description", "width", "height", "fps", "frames", "offsets", "sizes",
                           "audio", "peaks"]
    assert index["version"] == 1 and index["fps"] == "25/1"
    avcc = base64.b64decode(index["description"])
    assert index["codec"] == "avc1.%02X%02X%02X" % (avcc[1], avcc[2], avcc[3])  # noqa: UP031
    assert index["codec"].startswith("avc1.64")  # High profile
    data = (media_dir / "proxy.mp4").read_bytes()
    offsets, sizes = index["offsets"], index["sizes"]
    assert len(offsets) == len(sizes) == index["frames"]
    assert all(a + s <= b for a, s, b in zip(offsets, sizes, offsets[1:], strict=False))
    # Each range is one length-prefixed (AVCC) sample: its NAL lengths add up to the range exactly.
    for offset, size in zip(offsets, sizes, strict=True):
        pos = 0
        while pos < size:
            pos += 4 + int.from_bytes(data[offset + pos : offset + pos + 4], "big")
        assert pos == size
    # The index is what demuxing the file says (the peaks' entry comes from the encode itself).
    assert build_index(media_dir / "proxy.mp4", Fraction(25)) == {k: v for k, v in index.items() if k != "peaks"}


def test_index_window(transcoded) -> None:
    index = transcoded[0].index
    window = index_window(index, 10, 20)
    assert window["start"] == 10 and window["frames"] == 10 and window["total_frames"] == index["frames"]
    assert window["offsets"] == index["offsets"][10:20]
    assert window["codec"] == index["codec"]
    with pytest.raises(Exception, match="outside"):
        index_window(index, 10, index["frames"] + 1)


def test_features_are_saved_and_detect_the_cuts(transcoded, clip_with_audio) -> None:
    result = transcoded[0]
    features = np.load(result.features_path)
    assert features.shape == (result.total_frames, len(COLUMNS))
    cuts = detect_features(features)
    assert len(cuts) == 2
    lo, hi = clip_with_audio.windows[0]  # a dissolve, then a hard cut at 60
    assert lo <= cuts[0] < hi and cuts[1] == 60


@pytest.mark.parametrize(
    ("size", "short_side", "expected"),
    [
        pytest.param((1920, 1080), 720, (1280, 720), id="1080p"),
        pytest.param((1080, 1920), 720, (720, 1280), id="portrait"),
        pytest.param((321, 181), 720, (320, 180), id="odd-small"),
        pytest.param((640, 480), 720, (640, 480), id="never-upscale"),
    ],
)
def test_proxy_size(size, short_side, expected) -> None:
    assert proxy_size(*size, short_side) == expected


@pytest.mark.parametrize(
    ("size", "short_side", "expected"),
    [
        pytest.param((181, 321), 720, (180, 320), id="odd-portrait"),
        pytest.param((1080, 1920), 720, (720, 1280), id="portrait-1080x1920"),
    ],
)
def test_odd_and_portrait_sources_get_even_proxies(tmp_path, size, short_side, expected) -> None:
    video = make_video(tmp_path / "src.mkv", shot_frames=(6,), size=size, codec="ffv1")
    result = transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4", proxy_short_side=short_side)
    assert (result.proxy_width, result.proxy_height) == expected
    assert (result.width, result.height) == size  # the master keeps the original size
    assert decode_numbers(tmp_path / "p.mp4") == list(range(6))


def test_variable_frame_rate_is_normalised(tmp_path) -> None:
    video = make_video(tmp_path / "vfr.mp4", shot_frames=(40, 40), vfr=True)
    result = transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert result.fps == Fraction(25)
    master, proxy = decode_numbers(tmp_path / "m.mkv"), decode_numbers(tmp_path / "p.mp4")
    assert master == proxy
    assert len(master) == result.total_frames == result.index["frames"]
    assert master != list(range(len(master)))  # frames were duplicated and dropped...
    assert master == sorted(master) and master[0] in (0, 1)  # ...in order
    with av.open(str(video.path)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base)
    assert abs(result.total_frames - duration * 25) <= 2
    with av.open(str(tmp_path / "m.mkv")) as container:
        pts = [f.time for f in container.decode(video=0)]
    assert np.allclose(np.diff(pts), 1 / 25, atol=0.002)


def test_rotated_source_is_turned_upright(tmp_path) -> None:
    video = make_video(tmp_path / "plain.mp4", shot_frames=(5,), size=(320, 180))
    rotated = tmp_path / "rotated.mp4"
    with av.open(str(video.path)) as src, av.open(str(rotated), "w") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        stream.set_display_rotation(90)
        for packet in src.demux(video=0):
            if packet.size:
                packet.stream = stream
                dst.mux(packet)
    result = transcode(rotated, tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert result.rotation == 90
    assert (result.width, result.height) == (180, 320)
    with av.open(str(tmp_path / "p.mp4")) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (180, 320)


def test_shot_spec_transcode_of_flash(tmp_path) -> None:
    video = make_video(tmp_path / "f.mp4", shots=[ShotSpec(30, flashes=(10,)), ShotSpec(20)])
    result = transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert detect_features(result.features) == (30,)


def test_real_footage_round_trip(tmp_path, city_clip) -> None:
    from heaters.media.export import export_clip
    from heaters.media.transcode import count_frames

    result = transcode(city_clip, tmp_path / "m.mkv", tmp_path / "p.mp4")
    assert (result.total_frames, result.fps, result.width, result.height) == (190, Fraction(25), 720, 405)
    assert (result.proxy_width, result.proxy_height) == (720, 404)
    assert all(_keyframe_flags(tmp_path / "p.mp4"))
    assert detect_features(result.features) == (116,)
    export_clip(tmp_path / "m.mkv", tmp_path / "c.mp4", 100, 130, preset="ultrafast")
    assert count_frames(tmp_path / "c.mp4") == 30


def test_without_features_the_outputs_are_the_same(tmp_path, clip_with_audio, transcoded, media_dir) -> None:
    result = transcode(
        clip_with_audio.path, tmp_path / "m.mkv", tmp_path / "p.mp4", extract_features=False
    )
    assert result.features.shape == (0, len(COLUMNS))
    assert not result.features_path.exists()
    assert result.index["frames"] == transcoded[0].total_frames
    assert decode_numbers(tmp_path / "p.mp4") == decode_numbers(media_dir / "proxy.mp4")


def test_a_failing_encoder_stops_decoding_and_leaves_nothing(tmp_path, monkeypatch) -> None:
    import threading

    from heaters.media import transcode as module

    video = make_video(tmp_path / "long.mp4", shot_frames=(200, 200), size=(160, 90))
    encode_proxy = module._Outputs.encode_proxy
    handed: list[int] = []

    def broken(self, items, builder):
        def counted():
            for n, frame in enumerate(items):
                handed.append(n)
                if n == 5:
                    raise RuntimeError("disk full")
                yield frame
        encode_proxy(self, counted(), builder)

    monkeypatch.setattr(module._Outputs, "encode_proxy", broken)
    before = threading.active_count()
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="disk full"):
        transcode(video.path, tmp_path / "m.mkv", tmp_path / "p.mp4", progress=lambda done, _: seen.append(done))
    assert max(seen, default=0) < 100  # the decoder stopped within a queue's length, not at frame 400
    assert threading.active_count() == before  # both encoder threads are gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]  # no master, proxy or .part


def test_pipeline_keeps_order_and_bounds_the_queue() -> None:
    from heaters.media.pipeline_threads import Pipeline

    got: list[int] = []
    most = [0]

    def consume(items):
        for item in items:
            most[0] = max(most[0], len(items._items))
            got.append(item)

    with Pipeline() as pipeline:
        channel = pipeline.stage("t", consume, capacity=3)
        for i in range(500):
            channel.put(i)
    assert got == list(range(500))
    assert most[0] <= 3


def test_pipeline_producer_error_stops_the_consumers() -> None:
    import threading

    from heaters.media.pipeline_threads import Pipeline

    finished: list[str] = []

    def consume(items):
        for _ in items:
            pass
        finished.append("drained")  # must not happen: the producer failed

    with pytest.raises(ValueError, match="bad input"), Pipeline() as pipeline:
        channel = pipeline.stage("t", consume, capacity=2)
        channel.put(1)
        raise ValueError("bad input")
    assert finished == []
    assert not any(t.name == "t" for t in threading.enumerate())


def test_pipeline_consumer_error_reaches_a_blocked_producer() -> None:
    from heaters.media.pipeline_threads import Pipeline, Stopped

    started = [0]

    def consume(items):
        for _ in items:
            started[0] += 1
            raise OSError("encoder broke")

    with pytest.raises(OSError, match="encoder broke"), Pipeline() as pipeline:
        channel = pipeline.stage("t", consume, capacity=1)
        with pytest.raises(Stopped):
            for i in range(10_000):  # would block forever on the full queue if the failure were not seen
                channel.put(i)
        raise Stopped
    assert started[0] == 1


def test_proxy_sound_is_indexed_and_its_peaks_follow_the_tone(transcoded, media_dir) -> None:
    """The audio packet index covers the video from before frame 0 (the encoder's priming) to its end; the
    peaks hold one min/max pair per channel every 10 ms, and the synthetic tone (amplitude 0.3) shows."""
    result, _ = transcoded
    audio = result.index["audio"]
    assert audio["pts"][0] < 0 <= audio["pts"][1]
    assert audio["pts"] == sorted(audio["pts"]) and len(set(audio["offsets"])) == len(audio["offsets"])
    seconds = result.total_frames / result.fps
    assert audio["pts"][-1] / 48000 >= seconds - 0.05
    peaks = np.fromfile(result.peaks_path, np.int8).reshape(-1, result.index["peaks"]["channels"], 2)
    assert abs(len(peaks) - float(seconds) * 100) <= 2
    middle = peaks[len(peaks) // 4 : len(peaks) * 3 // 4]
    assert 0.2 * 127 < np.median(middle[..., 1]) < 0.45 * 127 and np.all(middle[..., 0] <= middle[..., 1])
    window = index_window(result.index, 10, 20)["audio"]
    assert window["pts"][0] <= 10 / result.fps * 48000 < window["pts"][-1] + 1024


def test_proxy_sound_lies_in_one_second_chunks(transcoded) -> None:
    """The review page fetches a second of sound with one Range request: the proxy's audio packets lie back to
    back a second at a time, not one between each pair of frames."""
    result, _ = transcoded
    audio = result.index["audio"]
    ends = [offset + size for offset, size in zip(audio["offsets"], audio["sizes"], strict=True)]
    runs = 1 + sum(nxt != end for end, nxt in zip(ends, audio["offsets"][1:], strict=False))
    seconds = float(result.total_frames / result.fps)
    assert len(audio["offsets"]) > 3 * seconds * 10  # about 47 packets a second
    assert runs <= seconds + 2, f"{runs} runs of audio packets in {seconds:.1f} s"
