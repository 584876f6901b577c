"""How far a video's work has got, in words: percent, amount, time left, and a one-line status.

Pure: it reads the ``progress`` JSON the stages write on the video row (``stage``, ``percent``, ``frames`` or
``bytes`` with ``total``, ``seconds`` since the stage started, ``segments``/``segments_done`` for an encode in
segments, ``step`` once the last unit is through) and the row's state. ``heaters ingest --wait``, the web pages
and their live updates all say the same thing because they all ask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from heaters import pipeline

STAGE_OF_STATE = {state: (stage.name, running) for state, (stage, running) in pipeline.positions("video").items()}
FAILED = pipeline.failed_states("video")
READY = pipeline.stages_of("video")[-1].done


def seconds_left(progress: Mapping[str, Any]) -> float | None:
    """Seconds the running stage still needs at the pace it has kept so far, or None with nothing to go on.

    Linear in the percent: the stages work through frames or bytes at a steady rate."""
    percent, seconds = progress.get("percent"), progress.get("seconds")
    if not percent or seconds is None or percent >= 100 or seconds < 1:
        return None
    return float(seconds) * (100.0 - float(percent)) / float(percent)


def time_left(progress: Mapping[str, Any]) -> str:
    """"30 s left", "2 min left", "3 h left", or "" while there is nothing to go on."""
    left = seconds_left(progress)
    if left is None:
        return ""
    if left < 90:
        return f"{left:.0f} s left"
    if left < 90 * 60:
        return f"{left / 60:.0f} min left"
    return f"{left / 3600:.1f} h left"


def amount(progress: Mapping[str, Any]) -> str:
    """What is done so far: "12.3 MB", "120/2750 frames" or "120 frames"."""
    total = progress.get("total")
    if "bytes" in progress:
        return f"{progress['bytes'] / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")
    if "frames" in progress:
        return f"{progress['frames']}/{total} frames" if total else f"{progress['frames']} frames"
    return ""


def details(progress: Mapping[str, Any]) -> str:
    """Amount, then the current step or the time left: ", "-joined, the empty ones left out."""
    return ", ".join(x for x in (amount(progress), progress.get("step") or time_left(progress)) if x)


def state_name(state: str) -> str:
    """A state as people say it: "pending review", "encode failed"."""
    return state.replace("_", " ")


def video_status(video: Mapping[str, Any]) -> dict[str, Any]:
    """What the pages show of a video's work: ``working`` (a stage runs now), ``finished`` (ready or failed:
    nothing more will happen on its own), ``percent`` (None when unknown
    or not working), ``text`` ("encode 45% · 3/10 segments · 2 min left", "waiting for encode", "done"; empty
    for a failed video, whose state says so) and ``left`` (seconds, or None)."""
    state = video["state"]
    progress: Mapping[str, Any] = video.get("progress") or {}
    if state == READY:
        return {"working": False, "finished": True, "percent": None, "text": "done", "left": None}
    if state in FAILED:  # the state says it failed
        return {"working": False, "finished": True, "percent": None, "text": "", "left": None}
    stage, running = STAGE_OF_STATE.get(state, (state, False))
    if not running:
        return {"working": False, "finished": False, "percent": None, "text": f"waiting for {stage}", "left": None}
    if progress.get("stage") != stage or progress.get("percent") is None:  # claimed, no progress written yet
        return {"working": True, "finished": False, "percent": None, "text": f"{stage} starting", "left": None}
    percent = float(progress["percent"])
    parts = [f"{stage} {percent:.0f}%"]
    if progress.get("segments"):
        parts.append(f"{progress.get('segments_done', 0)}/{progress['segments']} segments")
    parts.append(progress.get("step") or time_left(progress))
    text = " · ".join(p for p in parts if p)
    return {"working": True, "finished": False, "percent": min(percent, 100.0), "text": text,
            "left": seconds_left(progress)}


def duration(total_frames: int, fps: Fraction | None) -> str:
    """A video's length as a timecode: "1:02:03" from an hour up, "2:03" below, "" before it is known."""
    if not total_frames or not fps:
        return ""
    seconds = int(Fraction(total_frames) / fps)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
