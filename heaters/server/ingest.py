"""Turning a submitted URL or uploaded file into a new video, through ``heaters.services.ingest``.

Only http(s) URLs are accepted from the web: the ingest service also takes local paths (for the CLI), which
from a browser would let a user make the server read its own files; which URLs are allowed is the service's
policy. An upload is spooled to a private temporary directory under the data dir, put into storage by the
service before its row exists (so workers on other machines can read it), and the spooled copy is removed.
``key`` is the request's idempotency key (scoped to the user), or None.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import State, UploadFile

from heaters.errors import BadInput
from heaters.server.uploads import read_streamed_form, safe_filename
from heaters.services import ingest as ingest_service
from heaters.settings import Settings

# Request bodies above these are refused before they are read. Scripted uploads stream to disk; a plain form
# post (no scripts) is parsed in memory by the framework, so it gets the smaller bound.
UPLOAD_LIMIT = 8 * 2**30
FORM_UPLOAD_LIMIT = 2**30


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(f"{url!r} is not an http(s) URL", "paste the address of a video page or file")
    return url


def _title(value: Any) -> str | None:
    return str(value or "").strip()[:500] or None


async def ingest_url(state: State, url: str, title: str = "", key: str | None = None) -> int:
    return await ingest_service.ingest(state.settings, state.storage, check_url(url), title=_title(title),
                                       idempotency_key=key, tasks=state.tasks)


async def _store(state: State, path: Path, filename: str, title: str | None, key: str | None) -> int:
    if path.stat().st_size == 0:
        raise BadInput(f"the uploaded file {filename!r} is empty", "choose a video file")
    return await ingest_service.ingest_file(state.settings, state.storage, path, title=title,
                                            filename=filename, idempotency_key=key, tasks=state.tasks)


def _spool(settings: Settings) -> Path:
    root = Path(settings.data_dir).resolve() / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=root))  # 0700: other local users cannot read uploads


async def ingest_streamed(state: State, request: Any, key: str | None = None) -> int:
    """A multipart request whose body is still unread: stream ``file`` to disk, or take ``url``."""
    spool = await asyncio.to_thread(_spool, state.settings)
    try:
        form = await read_streamed_form(request, spool)
        upload = form.files.get("file")
        if upload is not None:
            return await _store(state, upload.path, upload.filename, _title(form.fields.get("title")), key)
        return await _ingest_url_field(state, form.fields, key)
    finally:
        await asyncio.to_thread(shutil.rmtree, spool, True)


async def ingest_form(state: State, form: Any, key: str | None = None) -> int:
    """A form the framework already parsed (a plain HTML form post): ``file`` or ``url``, and ``title``."""
    upload = form.get("file")
    if not (isinstance(upload, UploadFile) and upload.filename):
        return await _ingest_url_field(state, form, key)
    spool = await asyncio.to_thread(_spool, state.settings)
    try:
        path = spool / safe_filename(upload.filename)

        def copy() -> None:
            upload.file.seek(0)
            with open(path, "wb") as out:
                shutil.copyfileobj(upload.file, out, 1024 * 1024)

        await asyncio.to_thread(copy)
        return await _store(state, path, upload.filename, _title(form.get("title")), key)
    finally:
        await asyncio.to_thread(shutil.rmtree, spool, True)


async def _ingest_url_field(state: State, fields: Any, key: str | None = None) -> int:
    url = str(fields.get("url") or "")
    if not url.strip():
        raise BadInput("give a URL or choose a file", "fill in one of the two fields")
    return await ingest_url(state, url, str(fields.get("title") or ""), key)
