"""A real review server for browser tests and the player benchmark: a database, local storage holding proxies
made from synthetic videos whose frames carry their own number, the app served by uvicorn in a child process,
and headless Chromium.

The server runs in its own process because Piccolo binds tables to one engine per process; the test process
keeps its own connection for setting up rows and checking results.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from heaters.db.engine import connect
from heaters.db.migrate import migrate
from heaters.media.frame_index import dumps
from heaters.media.synthetic import ShotSpec, make_video, read_frame_number
from heaters.media.transcode import transcode
from heaters.settings import Settings
from heaters.storage import create_storage
from tests.conftest import TABLES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
PASSWORD = "correct horse battery"

T = TypeVar("T")

# The server, started with settings taken from the environment (so the child needs no arguments).
SERVE = """
import uvicorn
from heaters.server.app import create_app
from heaters.settings import Settings
settings = Settings.from_env()
uvicorn.run(create_app(settings, events_interval=0.2), host="127.0.0.1", port=settings.port, log_level="warning")
"""

# Read the top strip of the player's canvas (where the frame number is drawn) as base64 RGBA.
READ_STRIP = """(selector) => {
  const source = document.querySelector(selector);
  let canvas = source;
  if (source instanceof HTMLVideoElement) {
    canvas = document.createElement('canvas');
    canvas.width = source.videoWidth; canvas.height = source.videoHeight;
    canvas.getContext('2d').drawImage(source, 0, 0);
  }
  const strip = Math.max(8, Math.round(canvas.height / 12));
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, strip).data;
  let text = '';
  for (let i = 0; i < data.length; i += 8192) text += String.fromCharCode.apply(null, data.subarray(i, i + 8192));
  return [canvas.width, canvas.height, strip, btoa(text)];
}"""


def run_async(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine function to completion on a fresh loop in another thread (safe beside Playwright's)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proxy:
    """A transcoded proxy and its frame index on disk, reusable for many video rows."""

    path: Path
    index: dict[str, Any]
    fps: Fraction
    frames: int
    width: int
    height: int
    cuts: tuple[int, ...]
    peaks: Path | None = None


def make_proxy(workdir: Path, *, size: tuple[int, int] = (320, 180), shots: tuple[int, ...] = (30, 30, 30),
               fps: Fraction | int = 30, crf: int = 12, noise: bool = False, clicks: tuple[int, ...] = ()) -> Proxy:
    """Encode a synthetic video with burnt-in frame numbers and transcode it into an all-intra proxy.

    ``clicks``: the video has sound, silence with a click on each of those frames, which also flash."""
    workdir.mkdir(parents=True, exist_ok=True)
    starts = np.cumsum((0, *shots))
    specs = [ShotSpec(frames=n, pan=3.0 if noise else 0.0,
                      flashes=tuple(int(c - s) for c in clicks if s <= c < s + n), flash_frames=1)
             for n, s in zip(shots, starts, strict=False)]
    video = make_video(workdir / "original.mp4", shots=specs, size=size, fps=fps, crf=crf, audio=bool(clicks),
                       clicks=clicks)
    result = transcode(
        workdir / "original.mp4", workdir / "master.mkv", workdir / "proxy.mp4",
        proxy_crf=crf, proxy_preset="veryfast", proxy_short_side=min(size),
    )
    return Proxy(workdir / "proxy.mp4", result.index, result.fps, result.total_frames, result.proxy_width,
                 result.proxy_height, video.cuts, result.peaks_path)


async def add_video(settings: Settings, proxy: Proxy, *, title: str = "Synthetic review video",
                    cuts: tuple[int, ...] | None = None) -> int:
    """A ready video row whose proxy is ``proxy``, cut into clips at ``cuts`` (default: the shot changes)."""
    from heaters.db.tables import SourceVideo
    from heaters.services.videos import create_video

    video_id = await create_video(
        title, state="ready", fps=proxy.fps, total_frames=proxy.frames, width=proxy.width, height=proxy.height,
        initial_cuts=proxy.cuts if cuts is None else cuts,
    )
    storage = create_storage(settings)
    proxy_key, index_key = f"proxies/{video_id}.mp4", f"proxies/{video_id}.index.json"
    await asyncio.to_thread(storage.put_file, proxy_key, proxy.path, "proxy")
    await asyncio.to_thread(storage.put_bytes, index_key, dumps(proxy.index).encode(), "proxy_index")
    if proxy.peaks is not None:
        await asyncio.to_thread(storage.put_file, f"proxies/{video_id}.peaks", proxy.peaks, "proxy_index")
    await SourceVideo.update({SourceVideo.proxy_key: proxy_key, SourceVideo.proxy_index_key: index_key,
                              SourceVideo.has_audio: proxy.peaks is not None}).where(SourceVideo.id == video_id)
    return video_id


def prepare_database(settings: Settings) -> None:
    """Migrate the database and empty it (Postgres is shared between runs; SQLite is new in tmp)."""

    async def work() -> None:
        async with connect(settings) as engine:
            await migrate(engine)
            if not settings.is_sqlite:
                await engine.run_ddl(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")

    run_async(work)


def db_call(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` with the tables bound to the test database (in a thread of its own)."""

    async def bound() -> T:
        async with connect(settings):
            return await work()

    return run_async(bound)


class LiveServer:
    """``heaters`` web app for ``settings`` in a child process on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "HEATERS_DATA_DIR": str(s.data_dir), "DATABASE_URL": s.resolved_database_url,
            "HEATERS_SECRET_KEY": s.secret_key or "browser-test-key", "HEATERS_PORT": str(self.port),
            "WEBCODECS_ENABLED": "true" if s.webcodecs_enabled else "false",
            "HEATERS_MIN_CLIP_FRAMES": str(s.min_clip_frames), "HEATERS_STORAGE": "local",
            "HEATERS_STORAGE_DIR": str(s.resolved_storage_dir),
        }

    def __enter__(self) -> LiveServer:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-c", SERVE], env=self.environment(), stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def __exit__(self, *_: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def login(page: Any, server: LiveServer, username: str, target: str) -> None:
    """Log in through the login form and land on ``target``."""
    page.goto(f"{server.url}/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"**{target.split('?')[0]}*")


def open_review(page: Any, server: LiveServer, username: str, video_id: int, clip_id: int | None = None) -> None:
    """Log in, open the review page of a video and wait for its first frame."""
    target = f"/review/{video_id}" + (f"?clip={clip_id}" if clip_id else "")
    login(page, server, username, target)
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=20000)
    page.wait_for_function("window.heaters && window.heaters.player.frame >= 0", timeout=20000)


def shown_number(page: Any, selector: str = "#player-canvas") -> int:
    """The frame number burnt into the picture the page shows (canvas or <video>)."""
    width, height, strip, data = page.evaluate(READ_STRIP, selector)
    rgba = np.frombuffer(base64.b64decode(data), np.uint8).reshape(strip, width, 4)
    picture = np.zeros((height, width, 3), np.uint8)
    picture[:strip] = rgba[..., :3]
    return read_frame_number(picture)


def player_frame(page: Any) -> int:
    return int(page.evaluate("window.heaters.player.frame"))


def settled_frame(page: Any, timeout: float = 5000) -> int:
    """The frame shown once the player has stopped and painted the frame it last asked for (a pause lets a
    decode under way finish: reading ``frame`` at once may give the one before)."""
    page.wait_for_function("!window.heaters.player.playing && window.heaters.player.frame === "
                           "window.heaters.player.target", timeout=timeout)
    return player_frame(page)


def wait_frame(page: Any, frame: int, timeout: float = 5000) -> None:
    """Wait until the player has painted ``frame``."""
    page.wait_for_function(f"window.heaters.player.frame === {frame}", timeout=timeout)

