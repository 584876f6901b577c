"""What every stage needs besides its row: settings, storage, the master cache, scratch space, storage keys."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from heaters.errors import BadInput, DownloadError, HeatersError, InvalidCut, MediaError, NotFound
from heaters.services.queue import OFFLINE, TaskQueue
from heaters.settings import Settings
from heaters.storage import MasterCache, Storage, create_storage

log = logging.getLogger(__name__)


class GaveUp(HeatersError):
    """A stage failed ``max_attempts`` times; the row stays failed until ``heaters retry``."""


# Failures a retry cannot fix (the input itself is bad): no retries, the row goes to its failed state.
# Everything else (storage, network, database hiccups) is retried with backoff.
PERMANENT: tuple[type[BaseException], ...] = (MediaError, DownloadError, BadInput, InvalidCut, NotFound, GaveUp)


@dataclass
class StageContext:
    settings: Settings
    storage: Storage
    cache: MasterCache
    tasks: TaskQueue = field(default=OFFLINE)  # where a stage hands its row on to the next stage

    @classmethod
    def from_settings(cls, settings: Settings, tasks: TaskQueue = OFFLINE) -> StageContext:
        return cls(settings, create_storage(settings), MasterCache.from_settings(settings), tasks)

    @contextlib.contextmanager
    def scratch(self, stage: str, row_id: int, attempt: int) -> Iterator[Path]:
        """A private directory for one attempt, removed afterwards. Directories of earlier attempts at the same
        row belonged to workers that died (their lease expired before this claim), so they are removed too."""
        root = (self.settings.data_dir / "work").resolve()
        root.mkdir(parents=True, exist_ok=True)
        for stale in root.glob(f"{stage}-{row_id}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        path = root / f"{stage}-{row_id}-{attempt}"
        path.mkdir()
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PERMANENT)


# Storage keys (DESIGN.md). Features are small and read on every re-detection, so they stay STANDARD class.
def original_key(video_id: int, filename: str) -> str:
    return f"originals/{video_id}/{safe_name(filename)}"


def master_key(video_id: int) -> str:
    return f"masters/{video_id}.mkv"


def proxy_key(video_id: int) -> str:
    return f"proxies/{video_id}.mp4"


def proxy_index_key(video_id: int) -> str:
    return f"proxies/{video_id}.index.json"


def peaks_key(video_id: int) -> str:
    """The proxy's waveform peaks, beside it (see ``heaters.media.review_audio``)."""
    return f"proxies/{video_id}.peaks"


def features_key(video_id: int) -> str:
    return f"features/{video_id}.npy"


def small_frames_key(features: str) -> str:
    """The 48x27 frames a learned detector reads, stored beside the features they were decoded with."""
    return features.removesuffix(".npy") + ".small.npy"


def warn_without_small_frames(video_id: int, detector: str) -> None:
    """A video encoded before ``HEATERS_DETECTOR`` asked for a learned detector has no 48x27 frames: it is
    cut by the built-in detector (rather than failing, which no retry of the detect stage could mend)."""
    log.warning(
        "video %s was encoded without the 48x27 frames HEATERS_DETECTOR=%s reads (the setting changed during"
        " its encode): its cuts come from the built-in detector; ingest it again to use %s", video_id, detector,
        detector,
    )


def probabilities_key(features: str) -> str:
    """TransNetV2's answer per frame, beside the features it was computed with (a video encoded in segments
    keeps it as it grows, window by window, instead of running the model again over the whole video)."""
    return features.removesuffix(".npy") + ".transnetv2.npy"


# An export and its keyframes carry a name of their own (``job``, new for every job): after a reopen and a new
# approval, a late job of the earlier approval that finds its claim gone deletes only its own files, and the
# reopen's withdrawal never deletes what the new approval wrote.
def clip_key(video_id: int, clip_id: int, job: str) -> str:
    return f"clips/{video_id}/{clip_id}-{job}.mp4"


def keyframe_key(clip_id: int, job: str, n: int) -> str:
    return f"keyframes/{clip_id}/{job}-{n}.jpg"


def job_name() -> str:
    """A short name no other job of the same clip will have."""
    return secrets.token_hex(4)


def safe_name(filename: str) -> str:
    """A file name that is a valid storage key segment (no path, no leading dot, no odd characters)."""
    name = Path(filename.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".") or "original"
    return name[:120]
