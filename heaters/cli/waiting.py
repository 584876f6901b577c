"""``heaters ingest --wait``: follow videos through the pipeline with one progress bar per stage.

The database is polled (the workers write progress there), so this works against any worker anywhere. On a
terminal the bars are redrawn in place; otherwise (piped, in CI, in a log) plain lines are printed: the stage,
percent, frames and time left, every 10% and whenever the stage or its step changes (e.g. the verify, index
and store step at the end of an encode).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import click

from heaters import pipeline
from heaters.progress import details

# From the pipeline table: a video's stages, where each state stands among them, and how they fail.
STAGE_OF_STATE = {state: (stage.name, running) for state, (stage, running) in pipeline.positions("video").items()}
FAILED = pipeline.failed_states("video")
STAGES = tuple(stage.name for stage in pipeline.stages_of("video"))
READY = pipeline.stages_of("video")[-1].done
BAR = 30
NO_WORKER_HINT_SECONDS = 15.0


def bar(percent: float | None, width: int = BAR) -> str:
    if percent is None:
        return "[" + "?" * width + "]"
    filled = round(width * max(0.0, min(100.0, percent)) / 100)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def running_bar(progress: dict[str, Any], stage: str) -> str:
    """Bar, percent and amount of a running stage, from the progress the worker last wrote."""
    if progress.get("stage") != stage:  # claimed, first progress not written yet
        progress = {}
    percent = progress.get("percent")
    if percent is None:
        return f"{bar(0.0)} starting"
    extra = details(progress)
    return f"{bar(percent)} {percent:5.1f}%" + (f" {extra}" if extra else "")


def plain_line(video: dict[str, Any]) -> str:
    """One self-contained line for a log: "video 3: encode 45.0% (1234/2750 frames, 12 s left)"."""
    stage, running = STAGE_OF_STATE.get(video["state"], (video["state"], False))
    progress = video.get("progress") or {}
    if not running:
        return describe(video)[2]
    if progress.get("stage") != stage:  # claimed, first progress not written yet
        return f"video {video['id']}: {stage} starting"
    percent = progress.get("percent")
    extra = details(progress)
    shown = f"{percent:.1f}%" if percent is not None else "started"
    return f"video {video['id']}: {stage} {shown}" + (f" ({extra})" if extra else "")


def describe(video: dict[str, Any]) -> tuple[str, float | None, str]:
    """(stage, percent, one line) for a video row."""
    state = video["state"]
    progress = video.get("progress") or {}
    if state == READY:
        warning = f" (warning: {video['warning']})" if video.get("warning") else ""
        return "ready", 100.0, f"video {video['id']}: ready, {video['total_frames']} frames{warning}"
    if state in FAILED:
        return "failed", None, f"video {video['id']}: {state}: {video['error']}"
    stage, running = STAGE_OF_STATE.get(state, (state, False))
    if not running:
        return stage, 0.0, f"video {video['id']}: waiting for {stage}"
    percent = progress.get("percent") if progress.get("stage") == stage else None
    return stage, percent, f"video {video['id']}: {stage} {running_bar(progress, stage)}"


def stage_bars(video: dict[str, Any]) -> list[str]:
    """A title line and one bar per stage: done stages full, the running one at its progress."""
    state = video["state"]
    title = video.get("title") or video.get("source") or ""
    lines = [f"video {video['id']} {title[:60]}"]
    running = False
    if state == READY:
        current = len(STAGES)
    elif state in FAILED:
        current = STAGES.index(pipeline.stage_of_failure(state).name)
    else:
        stage, running = STAGE_OF_STATE.get(state, ("download", False))
        current = STAGES.index(stage)
    for i, stage in enumerate(STAGES):
        if i < current:
            shown = f"{bar(100.0)} 100.0%"
        elif i == current and state in FAILED:
            shown = f"{bar(None)} failed"
        elif i == current and running:
            shown = running_bar(video.get("progress") or {}, stage)
        else:
            shown = f"{bar(0.0)} waiting"
        lines.append(f"  {stage:<8} {shown}")
    return lines


async def wait_for_videos(ids: list[int], *, interval: float = 0.5, timeout: float | None = None) -> int:
    """Follow ``ids`` until each is ready or failed; return the number that failed."""
    from heaters.services.videos import get_video

    tty = sys.stdout.isatty()
    last: dict[int, tuple[str, int, str]] = {}
    drawn = 0
    started = time.monotonic()
    hinted = False
    while True:
        videos = [await get_video(i) for i in ids]
        lines = []
        for video in videos:
            stage, percent, line = describe(video)
            lines.extend(stage_bars(video))
            if not tty:
                step = (stage, int((percent or 0) // 10), str((video.get("progress") or {}).get("step", "")))
                if last.get(video["id"]) != step:
                    last[video["id"]] = step
                    click.echo(plain_line(video) if stage in STAGES else line)
        if tty:
            if drawn:
                click.echo(f"\x1b[{drawn}A", nl=False)
            for line in lines:
                click.echo("\x1b[2K" + line)
            drawn = len(lines)
        finished = [v for v in videos if v["state"] == READY or v["state"] in FAILED]
        if len(finished) == len(videos):
            failed = [v for v in videos if v["state"] in FAILED]
            for video in failed:
                click.secho(f"error: video {video['id']} {video['state']}: {video['error']}", fg="red", err=True)
            return len(failed)
        waited = time.monotonic() - started
        if not hinted and waited > NO_WORKER_HINT_SECONDS and all(v["state"] == "new" for v in videos):
            hinted = True
            click.secho(
                "  hint: nothing has started yet; are workers running? (`heaters workers` or `heaters up`)",
                err=True,
            )
        if timeout is not None and waited > timeout:
            click.secho(f"error: gave up waiting after {timeout:.0f} s", fg="red", err=True)
            return len(videos) - len(finished)
        await asyncio.sleep(interval)
