"""S3 storage (AWS or any S3-compatible endpoint) through boto3.

Credentials come from boto3's usual chain (environment, config files, instance role); this module never
reads, stores or logs them. Presigned URLs carry a signature, so they are not logged either.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import quote

from heaters.errors import ColdStorage, ConfigError, NotFound, StorageError
from heaters.storage.base import Kind, StorageClasses, atomic_target, validate_key, validate_range

log = logging.getLogger(__name__)

MULTIPART_THRESHOLD = 64 * 2**20
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # S3's own limit for SigV4 URLs
ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_CDN_KINDS = frozenset({"proxy", "proxy_index"})

mimetypes.add_type("video/x-matroska", ".mkv")


class S3Storage:
    """One bucket; keys are object names. Uploads above ``multipart_threshold`` go up in parts."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str = "",
        region: str = "us-east-1",
        classes: StorageClasses | None = None,
        cdn_domain: str = "",
        presign_seconds: int = 3600,
        *,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        restore_days: int = 7,
        restore_tier: str = "Standard",
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ConfigError("S3 storage needs a bucket name", "set S3_BUCKET_NAME")
        if len(bucket) < 3:
            raise ConfigError(f"S3 bucket name {bucket!r} is too short", "use 3 characters or more")
        if not 0 < presign_seconds <= MAX_PRESIGN_SECONDS:
            raise ConfigError(
                f"presigned URLs cannot live {presign_seconds} s",
                f"set HEATERS_PRESIGN_SECONDS between 1 and {MAX_PRESIGN_SECONDS}",
            )
        self.bucket = bucket
        self.classes = classes or StorageClasses()
        self.cdn_domain = cdn_domain.strip().rstrip("/").removeprefix("https://")
        self.presign_seconds = presign_seconds
        self.restore_days = restore_days
        self.restore_tier = restore_tier
        self.client = client or _make_client(endpoint_url, region)
        from boto3.s3.transfer import TransferConfig

        # 16 MiB parts; for files too large for 10,000 such parts the transfer layer enlarges them itself.
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(5 * 2**20, min(multipart_threshold, 16 * 2**20)),
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r})"

    # Writes: a single PUT or a completed multipart upload both appear all at once, so writes are atomic.
    def put_file(self, key: str, local_path: Path, kind: Kind | None = None) -> None:
        extra = self._put_args(key, kind)
        if not Path(local_path).is_file():
            raise NotFound(f"cannot store {key!r}: {local_path} does not exist")
        with self._errors(key):
            self.client.upload_file(str(local_path), self.bucket, key, ExtraArgs=extra, Config=self.transfer)

    def move_file(self, key: str, local_path: Path, kind: Kind | None = None) -> None:
        """Upload ``local_path`` under ``key``, then remove the local file (the bucket holds the only copy)."""
        self.put_file(key, local_path, kind)
        Path(local_path).unlink()

    def put_bytes(self, key: str, data: bytes, kind: Kind | None = None) -> None:
        extra = self._put_args(key, kind)
        with self._errors(key):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def get_bytes(self, key: str) -> bytes:
        validate_key(key)
        with self._errors(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def download(self, key: str, local_path: Path) -> None:
        validate_key(key)
        with self._errors(key), atomic_target(Path(local_path)) as temp:
            self.client.download_file(self.bucket, key, str(temp), Config=self.transfer)

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except NotFound:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (S3 itself treats it so)."""
        validate_key(key)
        with self._errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def open_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)``, cut short at the end of the object."""
        validate_key(key)
        validate_range(start, end)
        if start == end:
            return b""
        from botocore.exceptions import ClientError

        with self._errors(key):
            try:
                response = self.client.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}"
                )
            except ClientError as exc:
                if _code(exc) != "InvalidRange":
                    raise
                self._head(key)  # a missing key must still say so
                return b""
            body = response["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def url(self, key: str, kind: Kind | None = None, disposition: str | None = None) -> str | None:
        """A CDN URL for proxies when a CDN is configured, else a presigned GET valid ``presign_seconds``.

        ``disposition``: a ``Content-Disposition`` value S3 answers with (``attachment; filename=…``: the
        browser saves the file under that name)."""
        validate_key(key)
        if self.cdn_domain and kind in _CDN_KINDS and disposition is None:
            return f"https://{self.cdn_domain}/{quote(key)}"
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if disposition is not None:
            params["ResponseContentDisposition"] = disposition
        return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=self.presign_seconds))

    def local_path(self, key: str) -> Path | None:
        return None

    def ensure_readable(self, key: str) -> bool:
        """True if ``key`` can be read now. For an archived object, request a restore and return False.

        A restore already under way is left alone. Callers retry later (Glacier takes minutes to hours).
        """
        head = self._head(key)
        restore = head.get("Restore") or ""
        archived = head.get("StorageClass") in ARCHIVE_CLASSES or bool(head.get("ArchiveStatus"))
        if not archived or 'ongoing-request="false"' in restore:
            return True
        if 'ongoing-request="true"' in restore:
            return False
        from botocore.exceptions import ClientError

        # Intelligent-Tiering archive tiers take an empty request; Glacier classes need days and a tier.
        request: dict[str, Any] = (
            {}
            if head.get("ArchiveStatus")
            else {"Days": self.restore_days, "GlacierJobParameters": {"Tier": self.restore_tier}}
        )
        try:
            self.client.restore_object(Bucket=self.bucket, Key=key, RestoreRequest=request)
        except ClientError as exc:
            if _code(exc) != "RestoreAlreadyInProgress":
                raise self._translate(key, exc) from exc
        log.info("requested restore of s3://%s/%s (%s tier)", self.bucket, key, self.restore_tier)
        return False

    def remove_leftovers(self, before: float) -> list[str]:
        """Abort multipart uploads started before ``before`` (a Unix time) that never completed (the uploader
        was killed): S3 keeps and bills their parts until then. Return their keys."""
        aborted = []
        with self._errors(""):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket)
            for page in pages:
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"].timestamp() < before:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted.append(str(upload["Key"]))
        return aborted

    def _put_args(self, key: str, kind: Kind | None) -> dict[str, str]:
        validate_key(key)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        return {"StorageClass": self.classes.for_kind(kind), "ContentType": content_type}

    def _head(self, key: str) -> dict[str, Any]:
        validate_key(key)
        with self._errors(key):
            return dict(self.client.head_object(Bucket=self.bucket, Key=key))

    def _errors(self, key: str) -> _TranslateErrors:
        return _TranslateErrors(self, key)

    def _translate(self, key: str, exc: Exception) -> Exception:
        code = _code(exc)
        where = f"s3://{self.bucket}/{key}"
        if code in _MISSING:
            return NotFound(f"no stored object {key!r}", f"looked in {where}")
        if code == "InvalidObjectState" or (code == "403" and self._is_archived(key)):
            return ColdStorage(
                f"{where} is in archive storage and not restored yet",
                "a restore has to finish first (ensure_readable requests it); try again later",
            )
        if code == "NoSuchBucket":
            return ConfigError(f"bucket {self.bucket!r} does not exist", "create it or fix S3_BUCKET_NAME")
        return StorageError(f"S3 request for {where} failed: {code or exc}", "check S3 settings and access")

    def _is_archived(self, key: str) -> bool:
        # download_file heads the object first; a 403 there on an existing object means archived.
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception:
            return False
        restored = 'ongoing-request="false"' in (head.get("Restore") or "")
        return head.get("StorageClass") in ARCHIVE_CLASSES and not restored


class _TranslateErrors:
    """Context manager turning botocore errors into the HeatersError family."""

    def __init__(self, storage: S3Storage, key: str) -> None:
        self.storage, self.key = storage, key

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, ClientError):
            raise self.storage._translate(self.key, exc) from exc
        if isinstance(exc, BotoCoreError):
            raise StorageError(f"S3 is unreachable: {exc}", "check S3_ENDPOINT_URL and the network") from exc


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _make_client(endpoint_url: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    # Path-style addressing works on every S3-compatible service (MinIO, moto, R2); AWS accepts it too.
    style = "path" if endpoint_url else "auto"
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": style},
        retries={"max_attempts": 5, "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=config
    )
