"""The review proxy's sound: the source's audio as AAC-LC at 48 kHz, and its waveform peaks, from the encode's
one decode.

The samples are aligned to video frame 0 exactly as the master's (``AudioTrack``): sample ``s`` plays with
frame ``s * fps / 48000``. They are encoded on the decoding thread into packets that the proxy's thread
muxes beside the pictures, so the browser can fetch and decode the audio of any frame range by Range request.
The same samples feed ``PeakMeter``: the minimum and maximum of each channel over every 1/``PEAK_RATE`` s,
stored as a small int8 file the review page draws under its filmstrip.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from heaters.media.audio import AudioTrack

RATE = 48000
PEAK_RATE = 100  # peak bins per second: a column per 10 ms, finer than any zoom of the timeline needs
AAC_BITS_PER_CHANNEL = 64_000


class PeakMeter:
    """Min/max per channel over fixed blocks of interleaved float samples."""

    def __init__(self, channels: int, block: int) -> None:
        self.channels = channels
        self.block = block
        self.rest = np.zeros((0, channels), np.float32)
        self.bins: list[np.ndarray] = []

    def add(self, interleaved: np.ndarray) -> None:
        samples = np.concatenate([self.rest, interleaved.reshape(-1, self.channels)])
        whole = len(samples) // self.block * self.block
        if whole:
            blocks = samples[:whole].reshape(-1, self.block, self.channels)
            self.bins.append(np.stack([blocks.min(axis=1), blocks.max(axis=1)], axis=-1))
        self.rest = samples[whole:]

    def finish(self) -> np.ndarray:
        """All bins as int8, shape ``(bins, channels, 2)`` (min, max), full scale ±127."""
        if len(self.rest):
            self.bins.append(np.stack([self.rest.min(axis=0), self.rest.max(axis=0)], axis=-1)[None])
            self.rest = self.rest[:0]
        if not self.bins:
            return np.zeros((0, self.channels, 2), np.int8)
        peaks = np.concatenate(self.bins)
        return np.clip(np.round(peaks * 127), -127, 127).astype(np.int8)


class ReviewAudio(AudioTrack):
    """``AudioTrack``'s alignment, resampled to 48 kHz mono or stereo float, encoded to AAC-LC packets."""

    def __init__(self, stream: av.AudioStream, video_start: Fraction) -> None:
        super().__init__(stream, video_start)
        self.layout = "mono" if self.channels == 1 else "stereo"
        self.channels = av.AudioLayout(self.layout).nb_channels
        self.rate = RATE
        self.format = "flt"
        self.resampler = av.AudioResampler(format="flt", layout=self.layout, rate=RATE)
        self.meter = PeakMeter(self.channels, RATE // PEAK_RATE)

    @property
    def _dtype(self) -> type:
        return np.float32

    def open_output(self, container: av.container.OutputContainer) -> None:
        stream = container.add_stream("aac", rate=RATE, layout=self.layout)
        stream.codec_context.bit_rate = AAC_BITS_PER_CHANNEL * self.channels
        self.stream = stream

    def take(self) -> list[av.Packet]:
        """Encode what has been aligned so far (nothing until the proxy's stream exists)."""
        if self.stream is None:
            return []
        packets: list[av.Packet] = []
        for samples in self.pending:
            samples = samples.astype(np.float32)
            self.meter.add(samples)
            frame = av.AudioFrame.from_ndarray(samples, format="flt", layout=self.layout)
            frame.sample_rate = RATE
            frame.pts = self.written
            frame.time_base = Fraction(1, RATE)
            self.written += samples.shape[1] // self.channels
            packets += self.stream.encode(frame)
        self.pending = []
        return packets

    def finish(self) -> tuple[list[av.Packet], np.ndarray]:
        """The last packets (the encoder's tail) and the peaks of the whole track."""
        packets = self.take()
        assert self.stream is not None
        packets += self.stream.encode(None)
        return packets, self.meter.finish()
