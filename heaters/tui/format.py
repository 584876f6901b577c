"""Pure formatting for the console: frames as timecode, ages, progress and clip counts as short text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

# Short names keep the clip-count column readable in 80 columns.
STATE_ABBREVIATIONS = {
    "pending_review": "pend", "approved": "appr", "exporting": "expg", "exported": "expd",
    "keyframed": "kfrm", "embedded": "embd", "skipped": "skip", "rejected": "rej",
    "export_failed": "xfail", "keyframe_failed": "kfail", "embed_failed": "efail",
}


def fps_of(row: Mapping[str, Any]) -> Fraction | None:
    """The exact frame rate of a video row, or None before it is known."""
    num, den = row.get("fps_num") or 0, row.get("fps_den") or 1
    return Fraction(num, den) if num > 0 and den > 0 else None


def fps_text(fps: Fraction | None) -> str:
    if fps is None:
        return "-"
    return str(fps.numerator) if fps.denominator == 1 else f"{float(fps):.3f}"


def timecode(frames: int, fps: Fraction | None) -> str:
    """``H:MM:SS.mmm`` at the start of frame ``frames`` (exact for 30000/1001 and any other rate)."""
    if fps is None:
        return "-"
    millis = int(Fraction(frames) / fps * 1000)
    seconds, ms = divmod(millis, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{sec:02d}.{ms:03d}"


def duration(seconds: float | None) -> str:
    """A compact, signed duration: ``42s``, ``3m05s``, ``2h10m``, ``-12s`` (an expired lease)."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    if whole < 60:
        return f"{sign}{whole}s"
    if whole < 3600:
        return f"{sign}{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{sign}{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{sign}{whole // 86400}d{whole % 86400 // 3600:02d}h"


def stamp(value: datetime | None) -> str:
    """A timestamp in UTC, to the second (the console runs on many machines; UTC reads the same on all)."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def progress_text(progress: Mapping[str, Any] | None) -> str:
    """``encode 42%`` from a ``progress`` JSON (stage, percent, bytes); empty when no work runs."""
    if not progress:
        return ""
    stage = str(progress.get("stage", ""))
    percent = progress.get("percent")
    if isinstance(percent, int | float):
        return f"{stage} {percent:.0f}%".strip()
    done = progress.get("bytes")
    if isinstance(done, int | float):
        return f"{stage} {done / 2**20:.1f} MiB".strip()
    return stage


def clip_counts(counts: Mapping[str, int]) -> str:
    """``3 pend 1 appr`` in the order clips move through the pipeline."""
    order = list(STATE_ABBREVIATIONS)
    parts = [f"{counts[s]} {STATE_ABBREVIATIONS.get(s, s)}" for s in sorted(counts, key=_index(order)) if counts[s]]
    return " ".join(parts) or "-"


def _index(order: list[str]) -> Any:
    return lambda state: order.index(state) if state in order else len(order)


def frame(value: int | None) -> str:
    """A frame number of an audit row, ``-`` when the operation has none."""
    return "-" if value is None else str(value)


def ids(values: Any) -> str:
    """Clip ids of an audit row, ``-`` when none."""
    return ",".join(str(v) for v in values) if values else "-"


def mece_text(row: Mapping[str, Any]) -> str:
    """``valid``, the first violation (and how many more), or ``-`` when there is nothing to check yet."""
    if not row.get("mece_checked"):
        return "-"
    problems = row.get("mece") or []
    if not problems:
        return "valid"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"
