"""The review sound of a video encoded in segments: the source's whole audio track as one small file.

A whole-file encode muxes its review audio into the proxy (``review_audio``). A segmented video's proxy is
a set of picture-only pieces, so its sound is made once, for the whole source, by a job of its own: only the
audio stream is demuxed and decoded (cheap beside the pictures), aligned exactly as the whole-file encode
aligns it (``ReviewAudio``: sample ``s`` plays with frame ``s * fps / 48000``, sample 0 at the video
stream's start), encoded to AAC-LC 48 kHz into an audio-only MP4 (``.m4a``), and measured for the waveform
peaks. Being one track, its seams are the encoder's own packet boundaries: no gap, no click where the
segments meet. The packet index is read back from the finished file, as for the proxy.

Memory stays bounded by a packet's worth of samples: frames are decoded, encoded and muxed as they come (the
peaks, 400 bytes a second of stereo, are the only thing that grows with the length).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.stream import Discard

from heaters.errors import Abandoned, MediaError
from heaters.media.frame_index import build_audio_index
from heaters.media.review_audio import PEAK_RATE, ReviewAudio
from heaters.media.staging import publish, staged


@dataclass(frozen=True)
class ReviewTrack:
    index: dict[str, Any]  # the packet index (``frame_index`` layout of ``"audio"``), offsets into the file
    peaks: dict[str, Any]  # rate, channels, bins, format, as in a whole-file index's ``"peaks"``
    size: int  # bytes of the audio file
    samples: int  # samples per channel written (from frame 0)


def encode_review_track(
    original: str | Path,
    audio_path: str | Path,
    peaks_path: str | Path,
    *,
    audio_start: Fraction,
    abort: Callable[[], bool] | None = None,
) -> ReviewTrack:
    """Write the review audio of the first audio stream of ``original`` (a file, or a URL read by ranges) to
    ``audio_path`` (an ``.m4a``) and its peaks to ``peaks_path``; ``audio_start`` is the time (s) of the
    sample that plays with frame 0 (``segment.Timeline.audio_start``)."""
    from heaters.media.segment import open_source

    name = Path(str(original).split("?", 1)[0]).name
    audio_path, peaks_path = Path(audio_path), Path(peaks_path)
    with staged(audio_path) as (tmp,):
        with open_source(original) as container:
            if not container.streams.audio:
                raise MediaError(f"{name} has no audio stream", "this is a bug; report it")
            for other in (*container.streams.video, *container.streams.subtitles):
                other.discard = Discard.all  # only the audio's packets are wanted
            track = _encode(container, tmp, peaks_path, audio_start, name, abort)
        publish(tmp)
    return track


def _encode(
    container: av.container.InputContainer, tmp: Path, peaks_path: Path, audio_start: Fraction, name: str,
    abort: Callable[[], bool] | None,
) -> ReviewTrack:
    stream = container.streams.audio[0]
    review = ReviewAudio(stream, audio_start)
    with av.open(str(tmp), "w", format="mp4") as out:
        review.open_output(out)
        try:
            for count, frame in enumerate(container.decode(stream)):
                if abort is not None and count % 256 == 0 and abort():
                    raise Abandoned(f"{name}: review audio stopped")
                review.add(frame, None)
                out.mux(review.take())
        except av.error.FFmpegError as exc:
            raise MediaError(f"{name}: its audio does not decode ({exc})", "download it again") from None
        packets, peaks = review.finish()
        out.mux(packets)
    index = build_audio_index(tmp)
    peaks.tofile(peaks_path)
    meta = {"rate": PEAK_RATE, "channels": int(peaks.shape[1]), "bins": int(peaks.shape[0]),
            "format": "int8 [bin][channel][min,max]"}
    return ReviewTrack(index, meta, tmp.stat().st_size, review.written)
