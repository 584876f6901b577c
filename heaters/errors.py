"""One error family for the whole project.

Every failure a person can act on is a ``HeatersError`` with a message (what went wrong) and a hint (what to
do). The CLI prints it as one line, the TUI as a notification, the HTTP API as ``{"error", "detail"}`` with the
status code carried by the subclass.
"""

from __future__ import annotations


class HeatersError(Exception):
    """Base class: ``message`` says what went wrong, ``hint`` what to do about it."""

    status_code = 400
    kind = "bad_request"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class BadInput(HeatersError):
    """The request itself is malformed (bad number, unknown option)."""


class NotFound(HeatersError):
    status_code = 404
    kind = "not_found"


class Conflict(HeatersError):
    """The state changed under the caller (stale ``expected_version``, clip already exported)."""

    status_code = 409
    kind = "conflict"


class StaleVersion(Conflict):
    """An edit sent against an older ``cut_version``: somebody (named in the message) changed the video since."""

    code = "stale_version"


class InvalidCut(HeatersError):
    """A cut operation that would break the clip partition or the rules for cut points."""

    status_code = 422
    kind = "invalid_cut"

    def __init__(self, message: str, hint: str = "", *, code: str = "invalid") -> None:
        super().__init__(message, hint)
        self.code = code


class MeceViolation(HeatersError):
    """The clips of a video do not partition ``[0, total_frames)``; names the exact problem."""

    status_code = 500
    kind = "mece_violation"


class Unauthorized(HeatersError):
    status_code = 401
    kind = "unauthorized"


class Forbidden(HeatersError):
    status_code = 403
    kind = "forbidden"


class ConfigError(HeatersError):
    """Settings or services are missing or unreachable."""

    kind = "config"


class MediaError(HeatersError):
    """A media file cannot be read or written (corrupt, empty, audio-only, unsupported)."""

    status_code = 422
    kind = "media"


class DownloadError(HeatersError):
    """A source cannot be downloaded (unreachable, 404, unsupported site)."""

    status_code = 422
    kind = "download"


class StorageError(HeatersError):
    status_code = 500
    kind = "storage"


class Abandoned(HeatersError):
    """Work stopped half-way because its result is no longer wanted: another worker took its lease over."""

    status_code = 409
    kind = "abandoned"


class ColdStorage(StorageError):
    """An object is in an archive storage class; a restore was requested and the work must wait."""

    status_code = 503
    kind = "cold_storage"
