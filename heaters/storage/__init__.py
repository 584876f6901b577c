"""Media storage: a local directory (default) or an S3 bucket, addressed by the same keys.

Keys: ``originals/{video}/…``, ``masters/{video}.mkv``, ``proxies/{video}.mp4``,
``proxies/{video}.index.json``, ``clips/{video}/{clip}-{job}.mp4``, ``keyframes/{clip}/{job}-{n}.jpg`` (``job``:
a name of the job that made them, so a reopened and approved-again clip's files never collide with the old ones).
Build one with ``create_storage(settings)``.
"""

from __future__ import annotations

from heaters.settings import Settings
from heaters.storage.base import KINDS, Kind, Storage, StorageClasses, validate_key
from heaters.storage.cache import MasterCache
from heaters.storage.local import LocalStorage
from heaters.storage.s3 import S3Storage

__all__ = [
    "KINDS",
    "Kind",
    "LocalStorage",
    "MasterCache",
    "S3Storage",
    "Storage",
    "StorageClasses",
    "create_storage",
    "validate_key",
]


def create_storage(settings: Settings) -> Storage:
    """The storage ``settings`` describe: ``LocalStorage`` under the storage dir, or ``S3Storage``."""
    if settings.storage == "s3":
        return S3Storage(
            settings.s3_bucket_name,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            classes=StorageClasses(
                master=settings.gold_master_storage_class, proxy=settings.proxy_storage_class
            ),
            cdn_domain=settings.proxy_cdn_domain,
            presign_seconds=settings.presign_seconds,
        )
    return LocalStorage(settings.resolved_storage_dir)
