"""``heaters up``: the embedded default in one command, all of it or nothing.

Everything that can be checked before starting is checked first (the review app loads, its port is free, no
other ``heaters up`` runs on this data dir); then migrations, the embedded Redis (or ``REDIS_URL``), the
workers (waited for until they consume), the demo, and the review app in this process. The address and the
demo credentials are printed once the server answers HTTP. If any part cannot start, whatever did start is
stopped and the command exits 1 with one line saying what failed. SIGTERM, SIGINT and SIGHUP stop it all;
children die with this process even if it is killed outright (``services.children``).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import click

from heaters.cli.common import fail
from heaters.errors import ConfigError, HeatersError
from heaters.settings import Settings

DEMO_USER = "demo"
DEMO_TITLE = "heaters demo"
SERVER_START_TIMEOUT = 60.0


def run_up(
    settings: Settings, *, demo: bool, host: str | None, port: int | None, server: bool, processes: int,
    threads: int,
) -> None:
    host, port = host or settings.host, port or settings.port
    signal.signal(signal.SIGTERM, _interrupt)  # until the server takes over: stop as Ctrl-C does
    signal.signal(signal.SIGHUP, _interrupt)
    with contextlib.ExitStack() as started:  # closed in reverse: server, workers, Redis
        try:
            started.enter_context(_only_up(settings))
            app = _create_app(settings) if server else None
            if server:
                _check_port(host, port)
            _start_pipeline(settings, processes, threads, started)
            login = _demo(settings) if demo else None
            if app is not None:
                _serve(app, host, port, lambda: _announce(host, port, login))
            else:
                _announce_without_server(login)
                _watch_until_stopped()
        except HeatersError as exc:
            started.close()
            fail(exc)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP: a normal way to stop
            click.echo("stopping")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _only_up(settings: Settings) -> Iterator[None]:
    """One ``heaters up`` per data dir (the lock goes with the process, even if it is killed)."""
    from filelock import FileLock, Timeout

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.data_dir / "up.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ConfigError(f"another `heaters up` is running on {settings.data_dir}",
                          "stop it first, or set HEATERS_DATA_DIR to another directory") from None
    try:
        yield
    finally:
        lock.release()


def _create_app(settings: Settings) -> Any:
    try:
        from heaters.server.app import create_app

        return create_app(settings)
    except ImportError as exc:
        raise ConfigError(f"the review app cannot start: {exc}", "reinstall heaters (`pip install -e .`)") from exc


def _check_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}",
                              "choose another port with --port (or HEATERS_PORT), or stop what uses it") from None


def _start_pipeline(settings: Settings, processes: int, threads: int, started: contextlib.ExitStack) -> None:
    from heaters.cli.supervise import Supervisor, worker_command
    from heaters.services.broker import stop_embedded_redis

    try:
        applied = asyncio.run(_migrate(settings))
    except OSError as exc:
        raise ConfigError(f"cannot reach the database: {exc}", "check DATABASE_URL") from None
    click.echo(f"database: {'applied ' + ', '.join(applied) if applied else 'up to date'} ({_where(settings)})")
    env, redis_server = _queue_env(settings)
    started.callback(stop_embedded_redis, redis_server)
    click.echo(f"queue: {'REDIS_URL' if settings.redis_url else 'embedded Redis in ' + str(settings.data_dir)}")
    supervisor = Supervisor([worker_command(threads, (), dispatcher=(i == 0)) for i in range(processes)], env)
    started.callback(_stop_workers, supervisor)
    supervisor.start()
    supervisor.wait_ready()
    supervisor.watch_in_background()
    started.callback(supervisor.stopping.set)  # no restarts once stopping begins
    click.echo(f"workers: {processes} process(es) x {threads} threads")


def _stop_workers(supervisor: Any) -> None:
    click.echo("stopping workers")
    supervisor.stop()


def _where(settings: Settings) -> str:
    return f"SQLite in {settings.data_dir}" if settings.is_sqlite else "DATABASE_URL"


async def _migrate(settings: Settings) -> list[str]:
    from heaters.db.engine import connect
    from heaters.db.migrate import migrate

    async with connect(settings) as engine:
        return await migrate(engine)


def _queue_env(settings: Settings) -> tuple[dict[str, str], object]:
    if settings.redis_url:
        from heaters.services.broker import create_broker

        create_broker(settings).close()  # ConfigError now, not in every worker, if it is unreachable
        return {}, None
    from heaters.services.broker import start_embedded_redis

    server = start_embedded_redis(settings)
    return {"REDIS_URL": f"unix://{server.socket_file}"}, server


def _serve(app: Any, host: str, port: int, on_ready: Callable[[], None]) -> None:
    """Run the review app here until a stop signal; ``on_ready`` once it answers HTTP."""
    import uvicorn

    # No proxy in front: X-Forwarded-For from a local client must not choose its sign-in throttle address.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False,
                                           timeout_graceful_shutdown=3, server_header=False))
    # uvicorn handles SIGINT and SIGTERM while it serves (then re-raises them to ``_interrupt``); SIGHUP too.
    signal.signal(signal.SIGHUP, server.handle_exit)
    answered = threading.Event()
    threading.Thread(target=_when_answering, args=(server, host, port, answered, on_ready), daemon=True).start()
    with contextlib.suppress(SystemExit):  # uvicorn's own startup failure (it logged why)
        server.run()
    if not answered.is_set() and not server.should_exit:
        raise ConfigError(f"the review app did not start on {host}:{port}", "see the error above")


def _when_answering(server: Any, host: str, port: int, answered: threading.Event,
                    on_ready: Callable[[], None]) -> None:
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/healthz"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline and not server.should_exit:
        if server.started:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        answered.set()
                        on_ready()
                        return
            except OSError:
                pass
        time.sleep(0.1)
    if not answered.is_set() and not server.should_exit:
        click.secho(f"error: the review app did not answer on {url}", fg="red", err=True)
        server.should_exit = True


def _announce(host: str, port: int, login: tuple[str, str] | None) -> None:
    click.echo(f"review app: http://{host}:{port}/  (Ctrl-C stops everything)")
    if login:
        click.secho(f"demo: open http://{host}:{port}/ and sign in as {login[0]} / {login[1]}", fg="green")


def _announce_without_server(login: tuple[str, str] | None) -> None:
    if login:
        click.secho(f"demo: reviewer {login[0]} / {login[1]} (run `heaters serve` to review)", fg="green")
    click.echo("running without the review app; Ctrl-C stops")


def _watch_until_stopped() -> None:
    from heaters.services.children import on_stop_signals

    stopped = threading.Event()

    on_stop_signals(lambda _signum: stopped.set())
    stopped.wait()


def _demo(settings: Settings) -> tuple[str, str]:
    """The demo reviewer (with a fresh password) and the sample video, ingested once through the normal path."""
    from heaters.media.synthetic import ShotSpec, make_video

    sample = (settings.data_dir / "demo" / "sample.mp4").resolve()
    sample.parent.mkdir(parents=True, exist_ok=True)
    if not sample.exists():
        shots = [ShotSpec(75), ShotSpec(60, flashes=(20,)), ShotSpec(90, "dissolve", 12), ShotSpec(50, pan=6.0),
                 ShotSpec(70, "fade", 16), ShotSpec(40)]
        partial = sample.with_suffix(".partial.mp4")
        make_video(partial, shots=shots, size=(640, 360), audio=True)
        partial.rename(sample)  # a demo interrupted while generating starts over next time
    password = secrets.token_urlsafe(9)

    async def work() -> tuple[int, bool]:
        from heaters.db.engine import connect
        from heaters.db.tables import SourceVideo, User
        from heaters.services import users
        from heaters.services.ingest import ingest
        from heaters.services.queue import reachable_queue
        from heaters.storage import create_storage

        async with connect(settings):
            await User.delete().where(User.username == DEMO_USER)
            await users.add_user(DEMO_USER, password, "reviewer")
            # The sample is known by its title (ingest may record the source in its own form).
            existing = await SourceVideo.select(SourceVideo.id).where(
                (SourceVideo.title == DEMO_TITLE) | (SourceVideo.source == str(sample))
            ).order_by(SourceVideo.id).first()
            if existing:
                return int(existing["id"]), False
            with reachable_queue(settings) as tasks:
                return await ingest(settings, create_storage(settings), str(sample), title=DEMO_TITLE,
                                    tasks=tasks), True

    video_id, new = asyncio.run(work())
    click.echo(f"demo: video {video_id} {'ingested from a generated sample' if new else 'already here, reused'}")
    return DEMO_USER, password
