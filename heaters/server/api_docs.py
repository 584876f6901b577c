"""The API's Swagger page, its scripts pinned by Subresource Integrity.

The page runs on this site with the reader's session and reads the CSRF cookie, so a script altered on the
CDN it loads from would act as the reviewer: the browser runs only the exact files of the pinned version (the
hashes are those of the ``swagger-ui-dist`` package of that version on npm, which the CDN serves unchanged).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi.plugins import SwaggerRenderPlugin

SWAGGER_VERSION = "5.18.2"
INTEGRITY = {  # file of swagger-ui-dist@SWAGGER_VERSION -> its sha384, base64
    "swagger-ui-bundle.js": "sha384-NXtFPpN61oWCuN4D42K6Zd5Rt2+uxeIT36R7kpXBuY9tLnZorzrJ4ykpqwJfgjpZ",
    "swagger-ui-standalone-preset.js": "sha384-qr68CD0cvHa88PmVu7e1a58Ego4qvKtcvcLdS2a8Mo5zILI01gyIV9jVwJk7X2NU",
    "swagger-ui.css": "sha384-rcbEi6xgdPk0iWkAQzT2F3FeBJXdG+ydrawGlfHAFIZG7wU6aKbQaRewysYpmrlW",
}


class PinnedSwagger(SwaggerRenderPlugin):
    """Litestar's Swagger page with integrity on each CDN file and no icon fetched from a moving branch."""

    def __init__(self) -> None:
        super().__init__(version=SWAGGER_VERSION, favicon="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        page = super().render(request, openapi_schema)
        for url in (self.js_url, self.standalone_preset_js_url):
            page = _pin(page, f'<script src="{url}" crossorigin>', f'<script src="{url}" integrity="{_hash(url)}" '
                                                                  'crossorigin="anonymous">')
        return _pin(page, f'<link href="{self.css_url}" rel="stylesheet">',
                    f'<link href="{self.css_url}" rel="stylesheet" integrity="{_hash(self.css_url)}" '
                    'crossorigin="anonymous">')


def _hash(url: str) -> str:
    return INTEGRITY[url.rsplit("/", 1)[-1]]


def _pin(page: bytes, tag: str, pinned: str) -> bytes:
    # A framework upgrade that changes the page must not silently serve unpinned scripts.
    if tag.encode() not in page:
        raise RuntimeError(f"the Swagger page no longer holds {tag!r}: pin its files again")
    return page.replace(tag.encode(), pinned.encode())
