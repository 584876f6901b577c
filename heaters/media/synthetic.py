"""Test videos with known ground truth: shots, transitions, flashes, pans, and burnt-in frame numbers.

Tests, the demo and the benchmarks all need real encoded video whose correct answer is known. ``make_video``
lays out a list of ``ShotSpec`` on one frame timeline, renders every frame with numpy (each shot is a
distinct smooth colour field with a few hard-edged shapes, drifting slowly so nothing is perfectly static),
and encodes it with PyAV. It returns the frames where each shot begins — the cuts a detector should find —
with the window a gradual transition allows.

``number_pattern`` burns each frame's own index into the top strip of the picture as 16 black/white blocks
in Gray code. Gray code changes one block per frame, so the strip adds almost nothing to frame differences
that a scene detector could mistake for a cut; the blocks are big enough to survive H.264 and scaling, and
``read_frame_number`` reads the number back from any decoded RGB frame.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

BITS = 16

Transition = Literal["cut", "dissolve", "fade"]


@dataclass(frozen=True)
class ShotSpec:
    """One shot: its length in frames and how it begins.

    ``transition`` is how this shot replaces the previous one; a dissolve or fade spans ``transition_frames``
    centred on the shot's first frame, and a fade may hold ``hold`` black frames in its middle (fade-out,
    black, fade-in). ``flashes`` are offsets inside the shot where a camera flash of ``flash_frames`` bright
    frames starts; ``band_flashes`` a rolling-shutter flash that lights the top half of one frame and the
    bottom half of the next. ``pan`` is horizontal camera speed in pixels per frame; ``whips`` are offsets
    where a whip pan starts: for ``whip_frames`` frames the camera races across the scene (a frame width
    every ``1 / whip_speed`` frames) with matching motion blur. ``framing`` shows shot ``framing``'s scene
    again, ``zoom`` times closer (a close-up after a wide shot of the same subject). ``drift`` turns the hue
    by that many degrees per frame (a slow colour or lighting change that never settles); ``gradient``
    draws a plain two-colour gradient instead of a textured scene.
    """

    frames: int
    transition: Transition = "cut"
    transition_frames: int = 0
    flashes: tuple[int, ...] = ()
    flash_frames: int = 2
    pan: float = 0.0
    hold: int = 0
    band_flashes: tuple[int, ...] = ()
    whips: tuple[int, ...] = ()
    whip_frames: int = 6
    whip_speed: float = 0.3
    framing: int | None = None
    zoom: float = 2.0
    drift: float = 0.0
    gradient: bool = False


@dataclass(frozen=True)
class SyntheticVideo:
    """What was encoded: ``cuts`` are the first frames of shots 2..n; ``windows[i]`` is the half-open range
    of frames where a detector may place cut ``i`` (one frame for a hard cut, the transition otherwise)."""

    path: Path
    cuts: tuple[int, ...]
    windows: tuple[tuple[int, int], ...]
    frames: int
    fps: Fraction
    size: tuple[int, int]
    kinds: tuple[Transition, ...] = ()


def gray_code(n: int) -> int:
    return n ^ (n >> 1)


def _from_gray(g: int) -> int:
    n = 0
    while g:
        n ^= g
        g >>= 1
    return n


def _strip_geometry(width: int, height: int) -> tuple[int, list[tuple[int, int]]]:
    strip = max(8, round(height / 12))
    blocks = [(i * width // BITS, (i + 1) * width // BITS) for i in range(BITS)]
    return strip, blocks


def draw_frame_number(rgb: np.ndarray, number: int) -> None:
    """Burn ``number`` (0..65535) into the top strip of ``rgb`` in place, most significant bit first."""
    height, width = rgb.shape[:2]
    strip, blocks = _strip_geometry(width, height)
    code = gray_code(number)
    for i, (x0, x1) in enumerate(blocks):
        bit = (code >> (BITS - 1 - i)) & 1
        rgb[:strip, x0:x1] = 255 if bit else 0


def read_frame_number(rgb: np.ndarray) -> int:
    """Read back the number drawn by ``draw_frame_number`` from a decoded RGB (or grey) frame of any size."""
    height, width = rgb.shape[:2]
    strip, blocks = _strip_geometry(width, height)
    grey = rgb.mean(axis=2) if rgb.ndim == 3 else rgb.astype(np.float64)
    y0, y1 = strip // 4, max(strip // 4 + 1, 3 * strip // 4)
    code = 0
    for x0, x1 in blocks:
        margin = (x1 - x0) // 4
        value = grey[y0:y1, x0 + margin : max(x0 + margin + 1, x1 - margin)].mean()
        code = (code << 1) | int(value > 127)
    return _from_gray(code)


def _shot_texture(seed: int, width: int, height: int) -> np.ndarray:
    """A distinct picture per shot: a smooth random colour field plus hard-edged shapes (so it has texture)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(4, max(2, width * 4 // max(height, 1)), 3), dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(12):
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(max(3, height // 30), max(4, height // 6)))
        if rng.random() < 0.5:
            cv2.circle(image, (x, y), r, colour, -1)
        else:
            cv2.rectangle(image, (x - r, y - r), (x + r, y + r // 2), colour, -1)
    return image


def _gradient_texture(seed: int, width: int, height: int) -> np.ndarray:
    """A smooth diagonal blend between two random colours, with nothing else in the picture."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 256, size=(2, 3)).astype(np.float32)
    a[int(rng.integers(0, 3))] = 255.0  # saturated, so the hue is well defined and drifts visibly
    ramp = (np.arange(width)[None, :] / width * 0.8 + np.arange(height)[:, None] / height * 0.2)[..., None]
    return ((1 - ramp) * a + ramp * b).astype(np.uint8)


def _turn_hue(picture: np.ndarray, degrees: float) -> np.ndarray:
    hsv = cv2.cvtColor(np.clip(picture, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.int32)
    hsv[..., 0] = (hsv[..., 0] + round(degrees / 2)) % 180  # OpenCV hue is in 2-degree steps
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)


class _Renderer:
    """Renders frame ``n`` of the timeline; shots are laid out back to back, transitions blend around joins."""

    DRIFT = 1.0  # px per frame, so even "static" shots have motion like a handheld camera

    def __init__(self, shots: Sequence[ShotSpec], width: int, height: int, seed: int) -> None:
        self.shots = list(shots)
        self.width, self.height = width, height
        self.starts = np.cumsum([0] + [s.frames for s in self.shots]).tolist()
        self.textures: list[np.ndarray] = []
        for i, shot in enumerate(self.shots):
            travel = int(np.ceil((abs(shot.pan) + self.DRIFT) * (shot.frames + 64) + self._whip_travel(shot))) + 2
            if shot.framing is not None:
                self.textures.append(self._closer(self.textures[shot.framing], shot.zoom, width + travel))
            elif shot.gradient:
                self.textures.append(_gradient_texture(seed * 1000 + i, width + travel, height))
            else:
                self.textures.append(_shot_texture(seed * 1000 + i, width + travel, height))

    def _whip_travel(self, shot: ShotSpec) -> float:
        return len(shot.whips) * shot.whip_frames * shot.whip_speed * self.width

    def _closer(self, scene: np.ndarray, zoom: float, width: int) -> np.ndarray:
        """The middle of ``scene``'s opening view, ``zoom`` times larger: the same subject, framed closer."""
        h = max(2, round(self.height / zoom))
        y0 = (self.height - h) // 2
        x0 = round((self.width - self.width / zoom) / 2 + self.DRIFT * 32)
        w = min(scene.shape[1] - x0, max(2, round(width / zoom)))
        crop = scene[y0 : y0 + h, x0 : x0 + w]
        return cv2.resize(crop, (round(w * zoom), self.height), interpolation=cv2.INTER_CUBIC)

    def shot_picture(self, i: int, local: int) -> np.ndarray:
        shot = self.shots[i]
        offset = (abs(shot.pan) + self.DRIFT) * (local + 32)
        blur = 0
        step = shot.whip_speed * self.width
        for w in shot.whips:  # a whip pan moves the camera far and fast, blurring along the motion
            offset += step * float(np.clip(local - w, 0, shot.whip_frames))
            if w <= local < w + shot.whip_frames:
                blur = max(3, round(step))
        texture = self.textures[i]
        x = int(np.clip(round(offset), 0, texture.shape[1] - self.width))
        if blur:
            lo, hi = max(0, x - blur), min(texture.shape[1], x + self.width + blur)
            smeared = cv2.blur(texture[:, lo:hi], (blur, 1))
            picture = smeared[:, x - lo : x - lo + self.width].astype(np.float32)
        else:
            picture = texture[:, x : x + self.width].astype(np.float32)
        if shot.drift:  # unevenly, as light changes: now faster, now slower
            picture = _turn_hue(picture, shot.drift * (local + 40 * np.sin(2 * np.pi * local / 150)))
        for f in shot.flashes:
            if f <= local < f + shot.flash_frames:
                picture = picture * 0.25 + 0.75 * 255.0
        for f in shot.band_flashes:  # rolling shutter: the flash lights the top rows, then the bottom rows
            if local in (f, f + 1):
                rows = slice(0, self.height // 2) if local == f else slice(self.height // 2, self.height)
                picture[rows] = picture[rows] * 0.25 + 0.75 * 255.0
        return picture

    def frame(self, n: int) -> np.ndarray:
        i = int(np.searchsorted(self.starts, n, side="right") - 1)
        picture = self.shot_picture(i, n - self.starts[i])
        # A transition into the next shot may start before that shot does.
        for j in (i, i + 1):
            if j == 0 or j >= len(self.shots) or self.shots[j].transition == "cut":
                continue
            lo, hi = self.transition_window(j)
            if not lo <= n < hi:
                continue
            a = (n - lo + 1) / (hi - lo + 1)
            before = self.shot_picture(j - 1, n - self.starts[j - 1])
            after = self.shot_picture(j, n - self.starts[j])
            if self.shots[j].transition == "dissolve":
                picture = (1 - a) * before + a * after
            else:  # fade through black, holding black for ``hold`` frames in the middle
                ramp = (hi - lo - self.shots[j].hold) / 2
                k = n - lo + 1
                if k <= ramp:
                    picture = before * max(0.0, 1 - k / (ramp + 1))
                elif k > hi - lo - ramp:
                    picture = after * min(1.0, (k - (hi - lo - ramp)) / (ramp + 1))
                else:
                    picture = before * 0.0
        return np.clip(picture, 0, 255).astype(np.uint8)

    def transition_window(self, j: int) -> tuple[int, int]:
        return transition_window(self.shots[j], self.starts[j])


def transition_window(shot: ShotSpec, start: int) -> tuple[int, int]:
    """Half-open frames where a detector may place the cut into ``shot`` (which begins at ``start``)."""
    if shot.transition == "cut" or shot.transition_frames <= 1:
        return start, start + 1
    length = shot.transition_frames + (shot.hold if shot.transition == "fade" else 0)
    lo = start - length // 2
    return lo, lo + length


def true_windows(shots: Sequence[ShotSpec]) -> tuple[tuple[tuple[int, int], ...], int]:
    """The windows of every true cut of a timeline and its length in frames, without rendering it."""
    starts = np.cumsum([0] + [s.frames for s in shots]).tolist()
    return tuple(transition_window(shots[j], starts[j]) for j in range(1, len(shots))), starts[-1]


def make_video(
    path: str | Path,
    *,
    shots: Sequence[ShotSpec] | None = None,
    shot_frames: Sequence[int] = (50, 50),
    fps: Fraction | int = Fraction(25),
    size: tuple[int, int] = (320, 180),
    audio: bool = False,
    clicks: Sequence[int] = (),
    number_pattern: bool = True,
    codec: str = "libx264",
    crf: int = 18,
    preset: str = "ultrafast",
    vfr: bool = False,
    seed: int = 1,
    noise: float = 0.0,
) -> SyntheticVideo:
    """Encode a synthetic video and return its ground truth.

    ``shots`` (or the shortcut ``shot_frames``: hard cuts between shots of those lengths) describe the
    timeline. ``vfr`` writes irregular timestamps (frames lasting 0.5–1.5 nominal frame times, 1 on average),
    like a phone. ``noise`` adds camera noise of that standard deviation (0..255 scale) to every frame.
    ``clicks`` (with ``audio``) replaces the tone by silence with a 2 ms full-scale click at the start of
    each of those frames, to measure how well sound and picture line up. ``preset`` is x264's: the default
    ``ultrafast`` encodes quickly without B-frames or the deblocking filter; ``fast`` encodes as internet
    video is (B-frames, CABAC, deblocking).
    """
    path = Path(path)
    fps = Fraction(fps)
    specs = list(shots) if shots is not None else [ShotSpec(frames=n) for n in shot_frames]
    width, height = size
    renderer = _Renderer(specs, width, height, seed)
    total = renderer.starts[-1]
    rng = np.random.default_rng(seed)

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": preset}
        # Frames are converted with BT.601 below; say so, so every reader shows the intended colours.
        cc = stream.codec_context
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 6, 6, 6, 1
        if vfr:
            stream.time_base = cc.time_base = Fraction(1, 90000)
        audio_stream = out.add_stream("aac", rate=48000, layout="mono") if audio else None

        tick = 0.0
        durations: list[float] = []
        for n in range(total):
            rgb = renderer.frame(n)
            if noise:
                grain = rng.normal(0.0, noise, rgb.shape)
                rgb = np.clip(rgb + grain, 0, 255).astype(np.uint8)
            if number_pattern:
                draw_frame_number(rgb, n)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format="yuv420p", dst_colorspace="ITU601", dst_color_range="MPEG"
            )
            if vfr:
                frame.pts = round(tick * 90000 / fps)
                frame.time_base = Fraction(1, 90000)
                if n % 4 == 0:  # irregular, but averaging exactly the nominal rate over every 4 frames
                    durations = list(rng.permutation([0.5, 1.0, 1.0, 1.5]))
                tick += float(durations[n % 4])
            else:
                frame.pts = n
                frame.time_base = 1 / fps
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))

        if audio_stream is not None:
            seconds = (tick / fps) if vfr else total / fps
            _write_tone(out, audio_stream, float(seconds), renderer.starts, fps, clicks)

    cuts, windows = [], []
    for j in range(1, len(specs)):
        cuts.append(renderer.starts[j])
        windows.append(renderer.transition_window(j))
    kinds = tuple(s.transition for s in specs[1:])
    return SyntheticVideo(path, tuple(cuts), tuple(windows), total, fps, size, kinds)


def make_long_video(path: str | Path, minutes: float, size: tuple[int, int], *, seed: int = 7) -> SyntheticVideo:
    """A long source as a long internet video is cut: 25 fps, hard cuts every 4-20 s, a tone as sound."""
    rng = random.Random(seed)
    frames, shots = round(minutes * 60 * 25), list[int]()
    while sum(shots) < frames:
        shots.append(rng.randint(4 * 25, 20 * 25))
    shots[-1] -= sum(shots) - frames
    if shots[-1] < 25 and len(shots) > 1:
        shots[-2] += shots.pop()
    return make_video(path, shot_frames=tuple(shots), size=size, audio=True, crf=23)


def _write_tone(
    out: av.container.OutputContainer, stream: av.AudioStream, seconds: float, starts: list[int], fps: Fraction,
    clicks: Sequence[int] = (),
) -> None:
    """A tone whose pitch changes with each shot, so audio and picture can be checked against each other
    (or silence with clicks at the start of the frames ``clicks``)."""
    rate = 48000
    samples = round(seconds * rate)
    t = np.arange(samples) / rate
    shot = np.searchsorted(np.asarray(starts) / float(fps), t, side="right") - 1
    signal = (0.3 * np.sin(2 * np.pi * (330 + 55 * shot) * t)).astype(np.float32)
    if clicks:
        signal[:] = 0
        for click in clicks:
            at = round(click / fps * rate)
            signal[at : at + rate // 500] = 0.9
    for pos in range(0, samples, 1024):
        chunk = signal[pos : pos + 1024].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = pos
        frame.time_base = Fraction(1, rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
