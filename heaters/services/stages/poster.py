"""The poster of a video (``heaters.media.poster``), made once its proxy is whole, before it is ready.

A poster is for people to recognise a video by; a video without one is still fine, so a failure here is
logged and the stage carries on without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from heaters.media.pieces import byte_spans
from heaters.media.poster import poster_jpeg
from heaters.services.stages.context import StageContext

log = logging.getLogger(__name__)


def poster_key(video_id: int) -> str:
    return f"proxies/{video_id}.poster.jpg"


async def make_poster(ctx: StageContext, video: dict[str, Any]) -> str:
    """Store the poster of ``video``'s proxy; return its key, or "" when none could be made."""
    storage = ctx.storage
    try:
        index = json.loads(await asyncio.to_thread(storage.get_bytes, video["proxy_index_key"]))

        def read(start: int, end: int) -> bytes:
            if "pieces" in index:  # encoded in segments: the index addresses the pieces end to end
                return b"".join(storage.open_range(k, a, b) for k, a, b in byte_spans(index["pieces"], start, end))
            return storage.open_range(video["proxy_key"], start, end)

        jpeg = await asyncio.to_thread(poster_jpeg, index, read)
        key = poster_key(video["id"])
        await asyncio.to_thread(storage.put_bytes, key, jpeg, "proxy_index")
    except Exception:  # cosmetic: never the reason a video fails
        log.warning("video %s: no poster", video["id"], exc_info=True)
        return ""
    return key
