"""Consumers in worker threads, each fed in order through a bounded queue; one failure stops them all.

The encode stage decodes on the calling thread and hands every frame to encoders running beside it. PyAV
releases the GIL inside decoding, encoding and pixel conversion, so the encoders really run in parallel.
The queues are bounded so a slow consumer holds the producer back (memory stays a few frames per queue),
and every blocking wait also wakes when the pipeline is stopped: a consumer that raises stops the producer
at its next ``put``, and a producer that raises stops the consumers at their next item. Nobody hangs.

Usage::

    with Pipeline() as pipeline:
        frames = pipeline.stage("encode", encode_all, capacity=8)   # encode_all(items) runs in a thread
        for frame in decode():
            frames.put(frame)
    # here every stage has consumed everything and returned, or the first error has been raised
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")


class Stopped(Exception):
    """The pipeline was stopped because another thread failed; the original error is raised on exit."""


class Channel(Generic[T]):
    """A bounded FIFO from the producer to one consumer thread; iterating it yields items until closed."""

    def __init__(self, capacity: int, pipeline: Pipeline) -> None:
        self._items: deque[T] = deque()
        self._capacity = max(1, capacity)
        self._closed = False
        self._pipeline = pipeline
        self._cond = threading.Condition()

    def put(self, item: T) -> None:
        """Append ``item``, waiting while the queue is full; raise ``Stopped`` if the pipeline stops."""
        with self._cond:
            while len(self._items) >= self._capacity and not self._pipeline.stopped:
                self._cond.wait()
            if self._pipeline.stopped:
                raise Stopped
            self._items.append(item)
            self._cond.notify_all()

    def close(self) -> None:
        """No more items: the consumer's loop ends once it has taken the ones already queued."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def __iter__(self) -> Iterator[T]:
        while True:
            with self._cond:
                while not self._items and not self._closed and not self._pipeline.stopped:
                    self._cond.wait()
                if self._pipeline.stopped:
                    raise Stopped
                if not self._items:
                    return
                item = self._items.popleft()
                self._cond.notify_all()
            yield item


class Pipeline:
    """Owns the stage threads; as a context manager it closes the queues and joins the threads on exit,
    and raises the first error of any thread (the body's own exception wins if it is not ``Stopped``)."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._channels: list[Channel[object]] = []
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self.stopped = False

    def stage(self, name: str, consume: Callable[[Iterable[T]], None], *, capacity: int) -> Channel[T]:
        """Start a thread running ``consume(channel)``; return the channel to ``put`` its items into."""
        channel: Channel[T] = Channel(capacity, self)
        self._channels.append(channel)  # type: ignore[arg-type]
        thread = threading.Thread(target=self._run, args=(consume, channel), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()
        return channel

    def _run(self, consume: Callable[[Iterable[T]], None], channel: Channel[T]) -> None:
        try:
            consume(channel)
        except Stopped:
            pass
        except BaseException as exc:  # handed to the producer's thread and raised there
            self.stop(exc)

    def stop(self, error: BaseException | None = None) -> None:
        """Stop every thread at its next wait; keep ``error`` (the first one) to raise on exit."""
        with self._lock:
            if error is not None and self._error is None:
                self._error = error
            self.stopped = True
        for channel in self._channels:
            channel.wake()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            for channel in self._channels:
                channel.close()
        else:
            self.stop()
        for thread in self._threads:
            thread.join()
        if self._error is not None and (exc is None or isinstance(exc, Stopped)):
            raise self._error from None
