"""Which sources a person may hand over for download: no server-side reads of the installation's own network.

A ``file://`` URL or an address on loopback, link-local or a private range would make the server fetch what
only it can reach (its files, its cloud metadata service, the services beside it) and store it as a video that
reviewers can open. They are refused unless ``HEATERS_ALLOW_PRIVATE_SOURCES`` is on. Plain local paths given to
the CLI are not URLs and stay allowed: whoever runs the CLI can read those files anyway.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from heaters.errors import DownloadError
from heaters.settings import Settings

HINT = "give a public http(s) address; a trusted installation may set HEATERS_ALLOW_PRIVATE_SOURCES=true"


def is_private_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_source_url(settings: Settings, url: str) -> None:
    """Refuse ``file://`` URLs and http(s) URLs whose host resolves to a non-public address (blocking: DNS)."""
    if settings.allow_private_sources:
        return
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        raise DownloadError(f"{url} reads a file of the server, which is not allowed", HINT)
    host = parts.hostname
    if not host:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return  # unresolvable: the download fails with a readable reason
    for *_, address in infos:
        if is_private_address(str(address[0])):
            raise DownloadError(f"{url} points to {address[0]}, a local or private address", HINT)


class PrivateAddress(OSError):
    """A connection of a download was about to go to a local or private address."""


# The check above runs once, at ingest; the download resolves the name again (it may answer otherwise by
# then) and follows redirects. yt-dlp offers no hook on the addresses it connects to, so while a download
# runs its thread's name lookups are checked here: every connection it makes, redirects included, goes to
# the address a checked lookup returned. Other threads are not affected.
_checked = threading.local()
_getaddrinfo = socket.getaddrinfo


def _public_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    infos = _getaddrinfo(host, *args, **kwargs)
    if getattr(_checked, "on", False):
        for *_, address in infos:
            if is_private_address(str(address[0])):
                raise PrivateAddress(f"{host} resolves to {address[0]}, a local or private address")
    return infos


@contextlib.contextmanager
def public_addresses_only(settings: Settings) -> Iterator[None]:
    """While the block runs this thread connects to public addresses only (unless the setting allows more)."""
    if settings.allow_private_sources:
        yield
        return
    socket.getaddrinfo = _public_getaddrinfo
    _checked.on = True
    try:
        yield
    finally:
        _checked.on = False
