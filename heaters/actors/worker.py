"""Running the actors: one worker process with N threads, plus the periodic dispatcher.

``run_worker`` is what ``heaters workers`` does in each process. Several processes (``--processes N``) are
separate ``heaters workers`` children, so a crash in one (a codec bug, the OOM killer) leaves the others
running; only the first runs the dispatcher, which is enough because the dispatcher's work is idempotent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from heaters.settings import Settings

log = logging.getLogger(__name__)

# An idle consumer polls Redis with a backoff growing up to this; it bounds how long an approval waits before
# its export starts (the review's "rolling export"), at the price of ~10 cheap Redis calls a second per queue.
IDLE_POLL_MS = 100


def run_worker(
    settings: Settings,
    *,
    threads: int = 2,
    queues: Iterable[str] | None = None,
    dispatcher: bool = True,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Consume ``queues`` (default: all) with ``threads`` threads until SIGTERM/SIGINT/SIGHUP or ``stop`` is set."""
    import dramatiq

    from heaters.actors import setup

    stop = stop or threading.Event()
    broker = setup(settings)
    wanted = set(queues or ()) or None
    worker = dramatiq.Worker(broker, queues=wanted, worker_threads=threads, worker_timeout=IDLE_POLL_MS)
    # Encodes run for hours: a worker should not sit on more messages than it has threads to run them.
    worker.queue_prefetch = max(1, threads)
    if threading.current_thread() is threading.main_thread():
        from heaters.services.children import on_stop_signals

        on_stop_signals(lambda _signum: stop.set())
    worker.start()
    ticker = None
    if dispatcher:
        ticker = threading.Thread(target=_dispatch_loop, args=(settings, broker, stop), name="dispatcher", daemon=True)
        ticker.start()
    log.info("worker ready: queues %s, %d threads", ", ".join(sorted(wanted or broker.get_declared_queues())), threads)
    if ready is not None:
        ready.set()
    try:
        stop.wait()
    finally:
        log.info("worker stopping")
        if ticker is not None:
            ticker.join(timeout=5)
        worker.stop(timeout=10_000)
        broker.close()
        from heaters.services.broker import stop_embedded_redis

        stop_embedded_redis(getattr(broker, "embedded_redis", None))


def _dispatch_loop(settings: Settings, broker: Any, stop: threading.Event) -> None:
    """Tick the dispatcher every ``dispatch_seconds``; sweep leftovers every ``sweep_interval``."""
    import time

    from heaters.actors.runtime import run_on_loop
    from heaters.services.dispatch import tick
    from heaters.services.janitor import sweep, sweep_interval
    from heaters.services.queue import TaskQueue
    from heaters.storage import create_storage

    storage = create_storage(settings)
    tasks = TaskQueue(broker, lease_seconds=settings.lease_seconds)
    next_sweep = time.monotonic()
    while not stop.is_set():
        try:
            sent: dict[str, Any] = run_on_loop(tick(settings, tasks))
            if sent:
                log.info("dispatcher sent %s", {k: len(v) for k, v in sent.items()})
        except Exception:
            log.exception("dispatcher tick failed; trying again next interval")
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + sweep_interval(settings)
            try:
                sweep(settings, storage)
            except Exception:
                log.exception("janitor sweep failed; trying again at the next sweep")
        stop.wait(settings.dispatch_seconds)
