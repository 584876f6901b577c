"""Streaming multipart uploads: file parts go to disk chunk by chunk, never whole into memory.

Videos can be many gigabytes. The framework's form parsing reads the whole body first, so scripted uploads
(which send the CSRF token as a header and leave the body untouched) are parsed here as the bytes arrive.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from heaters.errors import BadInput

FIELD_LIMIT = 64 * 1024  # plain form fields are short (a URL, a title)


def safe_filename(name: str) -> str:
    """The last path segment of an uploaded name, reduced to harmless characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .") or "upload"
    return cleaned[:120]


@dataclass
class StreamedFile:
    filename: str  # as the client named it
    path: Path  # where its bytes are now
    size: int


@dataclass
class StreamedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, StreamedFile] = field(default_factory=dict)


class _Parts:
    """Callbacks for ``MultipartParser``: collect headers, then route each part to a field or a file."""

    def __init__(self, directory: Path, form: StreamedForm) -> None:
        self.directory = directory
        self.form = form
        self.headers: dict[str, bytes] = {}
        self.header_field = b""
        self.header_value = b""
        self.name = ""
        self.value = bytearray()
        self.file: IO[bytes] | None = None
        self.current: StreamedFile | None = None

    def on_part_begin(self) -> None:
        self.headers, self.name, self.value, self.file, self.current = {}, "", bytearray(), None, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        # Kept as bytes: browsers send a file's name as UTF-8, which a str would have to survive Latin-1 for.
        self.headers[self.header_field.decode("latin-1").lower()] = bytes(self.header_value)
        self.header_field, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get("content-disposition", b""))
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            filename = options[b"filename"].decode("utf-8", "replace")
            part_dir = Path(tempfile.mkdtemp(dir=self.directory))
            path = part_dir / safe_filename(filename)
            self.file = open(path, "wb")  # noqa: SIM115 - closed in on_part_end or by close_all
            self.current = StreamedFile(filename, path, 0)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.file is not None and self.current is not None:
            self.file.write(data[start:end])
            self.current.size += end - start
            return
        self.value += data[start:end]
        if len(self.value) > FIELD_LIMIT:
            raise BadInput(f"form field {self.name!r} is too long", "send the file as a file part")

    def on_part_end(self) -> None:
        if self.file is not None and self.current is not None:
            self.file.close()
            self.file = None
            if self.current.filename:
                self.form.files[self.name] = self.current
        else:
            self.form.fields[self.name] = self.value.decode("utf-8", "replace")

    def close_all(self) -> None:
        if self.file is not None:
            self.file.close()


async def read_streamed_form(request: Any, directory: Path) -> StreamedForm:
    """Parse a ``multipart/form-data`` request body, writing file parts into fresh dirs under ``directory``."""
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadInput("the multipart body has no boundary", "send a multipart/form-data request")
    directory.mkdir(parents=True, exist_ok=True)
    form = StreamedForm()
    parts = _Parts(directory, form)
    callbacks: Any = {name: getattr(parts, name) for name in (
        "on_part_begin", "on_header_field", "on_header_value", "on_header_end", "on_headers_finished",
        "on_part_data", "on_part_end")}
    parser = MultipartParser(boundary, callbacks)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise BadInput(f"the multipart body is malformed: {exc}", "send a multipart/form-data request") from None
    finally:
        parts.close_all()
    return form
