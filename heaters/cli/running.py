"""``heaters up``: the embedded default in one command.

Migrations run first; then the embedded Redis (or ``REDIS_URL``) is started in this process, which owns it,
so worker children and other ``heaters`` commands attach to the same queue; then the workers; then the review
app in this process (uvicorn) until Ctrl-C, which stops the workers too.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import threading

import click

from heaters.cli.common import fail
from heaters.errors import HeatersError
from heaters.settings import Settings

DEMO_USER = "demo"


def run_up(
    settings: Settings, *, demo: bool, host: str | None, port: int | None, server: bool, processes: int,
    threads: int,
) -> None:
    from heaters.cli.supervise import Supervisor, worker_command

    try:
        applied = asyncio.run(_migrate(settings))
    except (HeatersError, OSError) as exc:
        fail(exc if isinstance(exc, HeatersError) else HeatersError(f"cannot reach the database: {exc}"))
        return
    click.echo(f"database: {'applied ' + ', '.join(applied) if applied else 'up to date'}")
    env, redis_server = _queue_env(settings)
    click.echo(f"queue: {'REDIS_URL' if settings.redis_url else 'embedded Redis in ' + str(settings.data_dir)}")
    commands = [worker_command(threads, (), dispatcher=(i == 0)) for i in range(processes)]
    supervisor = Supervisor(commands, env)
    supervisor.start()
    click.echo(f"workers: {processes} process(es) x {threads} threads")
    try:
        if demo:
            _demo(settings, env, host or settings.host, port or settings.port, server)
        if server:
            _serve(settings, host or settings.host, port or settings.port)
        else:
            supervisor.stop_on_signals()
            click.echo("running without the review app; Ctrl-C stops")
            supervisor.watch()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while serving: a normal way to stop
        pass
    finally:
        click.echo("stopping workers")
        supervisor.stop()
        from heaters.services.broker import stop_embedded_redis

        stop_embedded_redis(redis_server)


async def _migrate(settings: Settings) -> list[str]:
    from heaters.db.engine import connect
    from heaters.db.migrate import migrate

    async with connect(settings) as engine:
        return await migrate(engine)


def _queue_env(settings: Settings) -> tuple[dict[str, str], object]:
    if settings.redis_url:
        return {}, None
    from heaters.services.broker import start_embedded_redis

    server = start_embedded_redis(settings)
    return {"REDIS_URL": f"unix://{server.socket_file}"}, server


def _serve(settings: Settings, host: str, port: int) -> None:
    try:
        from heaters.server.app import create_app
    except ImportError as exc:  # the review app is optional for a pipeline-only install
        click.secho(f"the review app is not available ({exc}); running the pipeline only", err=True)
        threading.Event().wait()
        return
    import uvicorn

    click.echo(f"review app: http://{host}:{port}/")
    # uvicorn handles SIGTERM itself and then re-raises it to the handler in place before it started; the
    # default handler would end the process on the spot, skipping the cleanup that stops the workers and
    # the embedded Redis. Ctrl-C already unwinds as KeyboardInterrupt; make SIGTERM do the same.
    signal.signal(signal.SIGTERM, _interrupt)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _demo(settings: Settings, env: dict[str, str], host: str, port: int, server: bool) -> None:
    """A reviewer with a fresh password and a generated sample video, ingested through the normal path."""
    from dataclasses import replace

    from heaters.media.synthetic import ShotSpec, make_video

    sample = (settings.data_dir / "demo" / "sample.mp4").resolve()
    sample.parent.mkdir(parents=True, exist_ok=True)
    if not sample.exists():
        shots = [ShotSpec(75), ShotSpec(60, flashes=(20,)), ShotSpec(90, "dissolve", 12), ShotSpec(50, pan=6.0),
                 ShotSpec(70, "fade", 16), ShotSpec(40)]
        make_video(sample, shots=shots, size=(640, 360), audio=True)
    password = secrets.token_urlsafe(9)
    queued = replace(settings, redis_url=env.get("REDIS_URL", settings.redis_url))

    async def work() -> int:
        from heaters.db.engine import connect
        from heaters.db.tables import User
        from heaters.services import queue, users
        from heaters.services.broker import try_broker
        from heaters.services.ingest import ingest
        from heaters.storage import create_storage

        async with connect(settings):
            await User.delete().where(User.username == DEMO_USER)
            await users.add_user(DEMO_USER, password, "reviewer")
            queue.set_broker(try_broker(queued))
            return await ingest(settings, create_storage(settings), str(sample), title="heaters demo")

    video_id = asyncio.run(work())
    click.echo(f"demo: video {video_id} ingested from a generated sample")
    if server:
        click.secho(f"demo: open http://{host}:{port}/ and sign in as {DEMO_USER} / {password}", fg="green")
    else:
        click.secho(f"demo: reviewer {DEMO_USER} / {password} (run `heaters serve` to review)", fg="green")
