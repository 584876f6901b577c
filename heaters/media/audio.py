"""The master's audio track: the source's audio, lossless (FLAC), aligned to video frame 0.

Audio is decoded in the same pass as the picture. Its first sample is placed at the time of the first video
frame: audio that starts later is preceded by silence and audio that starts earlier is trimmed, so sample
``s`` of the master plays with frame ``s * fps / rate`` — what an export of a frame range relies on.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np


class AudioTrack:
    """Collects decoded audio; ``open_output`` adds the FLAC stream, ``add`` encodes or buffers frames."""

    def __init__(self, stream: av.AudioStream, video_start: Fraction) -> None:
        self.rate = stream.codec_context.sample_rate or 48000
        layout = stream.codec_context.layout
        self.layout = layout.name if layout and layout.nb_channels <= 8 else "stereo"
        self.channels = av.AudioLayout(self.layout).nb_channels
        source = stream.codec_context.format.name if stream.codec_context.format else "fltp"
        self.format = "s16" if source in ("s16", "s16p", "u8", "u8p") else "s32"
        self.resampler = av.AudioResampler(format=self.format, layout=self.layout, rate=self.rate)
        self.video_start = video_start
        self.skip: int | None = None  # samples still to drop (<0: silence to insert), set at the first frame
        self.pending: list[np.ndarray] = []
        self.written = 0
        self.stream: av.AudioStream | None = None

    def open_output(self, container: av.container.OutputContainer) -> None:
        self.stream = container.add_stream("flac", rate=self.rate, layout=self.layout)
        self.stream.format = self.format

    def add(self, frame: av.AudioFrame, out: av.container.OutputContainer | None) -> None:
        if self.skip is None:
            start = Fraction(frame.pts) * frame.time_base if frame.pts is not None and frame.time_base else Fraction(0)
            self.skip = round((self.video_start - start) * self.rate)
            if self.skip < 0:
                self.pending.append(np.zeros((1, -self.skip * self.channels), self._dtype))
                self.skip = 0
        for resampled in self.resampler.resample(frame):
            samples = resampled.to_ndarray().reshape(1, -1)
            if self.skip:
                drop = min(self.skip, samples.shape[1] // self.channels)
                samples = samples[:, drop * self.channels :]
                self.skip -= drop
            if samples.size:
                self.pending.append(samples)
        if out is not None:
            self.drain(out)

    @property
    def _dtype(self) -> type:
        return np.int16 if self.format == "s16" else np.int32

    def drain(self, out: av.container.OutputContainer) -> None:
        assert self.stream is not None
        for samples in self.pending:
            frame = av.AudioFrame.from_ndarray(samples.astype(self._dtype), format=self.format, layout=self.layout)
            frame.sample_rate = self.rate
            frame.pts = self.written
            frame.time_base = Fraction(1, self.rate)
            self.written += samples.shape[1] // self.channels
            out.mux(self.stream.encode(frame))
        self.pending = []

    def flush(self, out: av.container.OutputContainer) -> None:
        self.drain(out)
        assert self.stream is not None
        out.mux(self.stream.encode(None))
