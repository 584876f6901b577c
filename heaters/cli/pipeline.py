"""Pipeline commands: ingest, scenes, workers, up, retry, doctor."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click

from heaters.cli.common import CONTEXT, ROW_ID, echo_json, fail, json_option, load_settings, require_data, run_db
from heaters.settings import Settings

QUEUE_NAMES = ("ingest", "encode", "export", "embed")


@click.command(context_settings=CONTEXT)
@click.argument("sources", nargs=-1, required=True)
@click.option("--title", help="Title of the video (default: the site's title or the file name).")
@click.option("--wait", is_flag=True, help="Show progress per stage until ready; exit 1 if any video fails.")
def ingest(sources: tuple[str, ...], title: str | None, wait: bool) -> None:
    """Add videos: SOURCE is a web address (downloaded with yt-dlp), a file:// URL or a local file.

    Prints one video id per source. Files are copied into storage now; web addresses are downloaded by a
    worker. Downloading and encoding happen in `heaters workers` (or `heaters up`).
    """
    from heaters.services.download import local_path_of, not_a_file
    from heaters.services.ingest import ingest as ingest_source
    from heaters.services.queue import reachable_queue
    from heaters.storage import create_storage

    for source in sources:  # refuse a typo before anything is ingested
        path = local_path_of(source.strip())
        if path is not None and not path.is_file():
            fail(not_a_file(path))

    async def work(settings: Settings) -> list[int]:
        storage = create_storage(settings)
        with reachable_queue(settings) as tasks:
            return [await ingest_source(settings, storage, s, title=title, tasks=tasks) for s in sources]

    ids = run_db(work)
    for video_id in ids:
        click.echo(video_id)
    if wait:
        from heaters.cli.waiting import wait_for_videos

        failed = run_db(lambda _: wait_for_videos(ids))
        sys.exit(1 if failed else 0)


@click.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--threshold", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Detector sensitivity, above 0: lower finds more cuts (default HEATERS_SCENE_THRESHOLD).")
@click.option("--min-frames", type=click.IntRange(min=1), default=None,
              help="Shortest shot kept (default HEATERS_SCENE_MIN_FRAMES).")
@click.option("--detector", type=click.Choice(["builtin", "transnetv2", "ensemble"]), default=None,
              help="Scene detector (default HEATERS_DETECTOR).")
@json_option
def scenes(file: Path, threshold: float | None, min_frames: int | None, detector: str | None, as_json: bool) -> None:
    """Detect shot changes in any video FILE without ingesting it.

    Prints the frames where new shots start, each with its kind (hard, dissolve, fade) and the detector's
    confidence (0..1; "check" marks a low one); with --json: {"cuts": [...], "frames": N, "fps": "num/den",
    "details": [{"frame", "kind", "confidence"}, ...]}. Frames are numbered as ingest numbers them (a
    variable-frame-rate file on its constant-rate grid), so a cut here is the same frame in review.
    """
    # The detector's arrays are tiny: OpenBLAS's pool of a thread per core, started as numpy is imported,
    # would only cost start-up time on the cores the decoder needs.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from heaters.errors import HeatersError
    from heaters.media.scenes import LOW_CONFIDENCE, detect_file

    settings = load_settings()
    progress = _progress_line(file.name) if sys.stderr.isatty() else None
    try:
        result = detect_file(
            file, threshold if threshold is not None else settings.scene_threshold,
            min_frames if min_frames is not None else settings.scene_min_frames,
            detector=detector or settings.detector, progress=progress,
        )
    except HeatersError as exc:
        fail(exc)
        return
    finally:
        if progress is not None:
            click.echo("\r\033[K", err=True, nl=False)  # the progress line goes
    if as_json:
        echo_json(result.as_json())
        return
    click.echo(f"{result.frames} frames at {result.fps} fps, {len(result.cuts)} cuts")
    for cut in result.detected:
        note = "\tcheck" if cut.confidence < LOW_CONFIDENCE else ""
        click.echo(f"{cut.frame}\t{float(cut.frame / result.fps):.3f}s\t{cut.kind}\t{cut.confidence:.2f}{note}")


def _progress_line(name: str) -> Callable[[int, int | None], None]:
    """One line on the terminal's stderr, rewritten at most twice a second: "a.mp4: 1200/90000 frames, 3 min
    left"."""
    from heaters.progress import details

    started = time.monotonic()
    shown = [0.0]

    def show(frames: int, total: int | None) -> None:
        now = time.monotonic()
        if now - shown[0] < 0.5:
            return
        shown[0] = now
        percent = 100.0 * frames / total if total else None
        line = details({"frames": frames, "total": total, "percent": percent, "seconds": now - started})
        click.echo(f"\r{name}: {line}\033[K", err=True, nl=False)

    return show


@click.command(context_settings=CONTEXT)
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (each restarts on its own if it crashes).")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True, help="Threads per process.")
@click.option("--queues", multiple=True, type=click.Choice(QUEUE_NAMES),
              help="Only these queues (repeat the option); default all. E.g. --queues export on export hosts.")
@click.option("--no-dispatcher", is_flag=True, help="Do not run the periodic dispatcher in this worker.")
@click.option("--watch-parent", type=int, default=None, hidden=True, help="Stop when this parent process is gone.")
@click.option("--ready-fd", type=int, default=None, hidden=True,
              help="Write one byte to this inherited pipe once the worker consumes its queues.")
def workers(processes: int, threads: int, queues: tuple[str, ...], no_dispatcher: bool, watch_parent: int | None,
            ready_fd: int | None) -> None:
    """Run the pipeline workers: download, encode, detect, export, keyframes, embed.

    Queues: ingest (downloads), encode (encode + detection), export (exports + keyframes), embed. The
    dispatcher re-sends work whose message was lost or whose worker died, every HEATERS_DISPATCH_SECONDS.
    SIGTERM, SIGINT or SIGHUP stops the workers and the embedded Redis they started.
    """
    import logging

    from heaters.errors import HeatersError

    settings = load_settings()
    require_data(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if processes == 1:
        from heaters.actors.worker import run_worker

        stop, ready = threading.Event(), threading.Event()
        if watch_parent is not None:
            from heaters.services.children import watch_parent as watch

            watch(watch_parent, stop.set)
        if ready_fd is not None:
            threading.Thread(target=_report_ready, args=(ready, stop, ready_fd), daemon=True).start()
        try:
            run_worker(settings, threads=threads, queues=queues, dispatcher=not no_dispatcher, ready=ready,
                       stop=stop)
        except HeatersError as exc:
            fail(exc)
        return
    from heaters.cli.supervise import Supervisor, worker_command
    from heaters.services.broker import stop_embedded_redis

    env, server = _shared_redis(settings)
    commands = [worker_command(threads, queues, dispatcher=(i == 0 and not no_dispatcher)) for i in range(processes)]
    supervisor = Supervisor(commands, env)
    supervisor.stop_on_signals()
    try:
        supervisor.start()
        supervisor.wait_ready()
        supervisor.watch()
    except HeatersError as exc:
        supervisor.stop()
        stop_embedded_redis(server)
        fail(exc)
    finally:
        supervisor.stop()
        stop_embedded_redis(server)


def _report_ready(ready: threading.Event, stop: threading.Event, fd: int) -> None:
    import os

    while not stop.is_set():
        if ready.wait(0.2):
            os.write(fd, b"r")
            break
    os.close(fd)


def _shared_redis(settings: Settings) -> tuple[dict[str, str], object]:
    """Environment for children so they share this process's queue; starts the embedded Redis if needed."""
    if settings.redis_url:
        return {}, None
    from heaters.errors import HeatersError
    from heaters.services.broker import start_embedded_redis

    try:
        server = start_embedded_redis(settings)
    except HeatersError as exc:
        return fail(exc)
    return {"REDIS_URL": f"unix://{server.socket_file}"}, server


@click.command(context_settings=CONTEXT)
@click.argument("video", type=ROW_ID, required=False)
@click.option("--all", "everything", is_flag=True, help="Every failed video and clip.")
@click.option("--clip", type=ROW_ID, help="A failed clip instead of a video.")
def retry(video: int | None, everything: bool, clip: int | None) -> None:
    """Send failed work back to the stage that failed, with a fresh attempt budget."""
    from heaters.db.tables import Clip, SourceVideo
    from heaters.errors import Conflict, NotFound
    from heaters.services import retry as service
    from heaters.services.queue import TaskQueue, reachable_queue

    if sum(x is not None and x is not False for x in (video, clip, everything or None)) != 1:
        raise click.UsageError("name one VIDEO, --clip ID or --all (e.g. `heaters retry 3` or `heaters retry --all`)")

    async def work(settings: Settings) -> str:
        with reachable_queue(settings) as tasks:
            return await retry_with(tasks)

    async def retry_with(tasks: TaskQueue) -> str:
        if everything:
            videos, clips = await service.retry_all(tasks)
            return f"re-queued {videos} videos and {clips} clips"
        if clip is not None:
            if not await service.retry_clip(clip, tasks):
                if not await Clip.exists().where(Clip.id == clip):
                    raise NotFound(f"clip {clip} not found", "see `heaters clips VIDEO`")
                raise Conflict(f"clip {clip} is not in a failed state", "see `heaters clips VIDEO`")
            return f"re-queued clip {clip}"
        assert video is not None
        if not await service.retry_video(video, tasks):
            if not await SourceVideo.exists().where(SourceVideo.id == video):
                raise NotFound(f"video {video} not found", "see `heaters videos`")
            raise Conflict(f"video {video} is not in a failed state", "see `heaters videos --state ...`")
        return f"re-queued video {video}"

    click.echo(run_db(work))


@click.command(context_settings=CONTEXT)
@json_option
def doctor(as_json: bool) -> None:
    """Check this installation: database, Redis, storage, media codecs (no ffmpeg needed), Chromium."""
    from heaters.cli.checks import run_checks

    results = run_checks(load_settings())
    if as_json:
        echo_json([{"check": n, "ok": ok, "detail": d} for n, ok, d in results])
    else:
        for name, ok, detail in results:
            mark = click.style("ok  ", fg="green") if ok else click.style("FAIL", fg="red")
            if ok is None:
                mark = click.style("--  ", fg="yellow")
            click.echo(f"{mark} {name:<10} {detail}")
    sys.exit(1 if any(ok is False for _, ok, _ in results) else 0)


@click.command(context_settings=CONTEXT)
@click.option("--demo", is_flag=True, help="Also create a demo reviewer and ingest a generated sample video.")
@click.option("--host", default=None, help="Address of the review app (default HEATERS_HOST).")
@click.option("--port", type=int, default=None, help="Port of the review app (default HEATERS_PORT).")
@click.option("--no-server", is_flag=True, help="Run only the pipeline (migrations, Redis, workers).")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True, help="Threads per process.")
def up(demo: bool, host: str | None, port: int | None, no_server: bool, processes: int, threads: int) -> None:
    """Run everything on this machine: migrations, Redis (embedded unless REDIS_URL), workers, review app.

    Ctrl-C stops it all. Data lives in HEATERS_DATA_DIR (SQLite, media, queue).
    """
    from heaters.cli.running import run_up

    run_up(load_settings(), demo=demo, host=host, port=port, server=not no_server, processes=processes,
           threads=threads)


COMMANDS: list[click.Command] = [ingest, scenes, workers, up, retry, doctor]
