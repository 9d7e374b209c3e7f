"""Dynamic batching: requests that arrive close together share one Captioner call.

Handlers on the event loop `submit` an image (the app sends each with its prompt, an
app.Asked; the batch function unpacks it) and await its result. One worker thread
takes the first waiting request, gathers more for a short window (or until the batch is
full), and captions them all in one `caption_results` call, so the event loop stays free
and, under load, each model call is a full batch as in an in-process run. The window
starts when the worker takes the first request, not when it arrived: the clients answered
by the batch that just ended come back within it and join the requests that waited, rather
than splitting the load into two half batches for good (on a CPU a model call costs nearly
as much for a few images as for a full batch). The queue is bounded: when it is full,
`submit` refuses at once rather than letting latency grow.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CaptionBatch = Callable[[Sequence[Any], Sequence[str]], Sequence[Any]]  # images, names -> results


class QueueFull(Exception):
    """Too many requests are waiting; the caller should try again later."""


@dataclass
class _Request:
    image: Any
    name: str
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


@dataclass
class BatchStats:
    """What the worker has done so far (read by /health)."""

    batches: int = 0  # Captioner calls
    images: int = 0  # requests answered through them
    largest_batch: int = 0
    failed_batches: int = 0  # calls that raised (every request in them got the error)


class Batcher:
    """One worker thread feeding `caption_batch` with batches of waiting requests."""

    def __init__(self, caption_batch: CaptionBatch, *, window_s: float = 0.1, max_batch: int = 32,
                 max_queue: int = 256) -> None:
        if max_batch < 1 or max_queue < 1 or window_s < 0:
            raise ValueError("max_batch and max_queue must be at least 1, window_s at least 0")
        self._caption_batch = caption_batch
        self.window_s, self.max_batch = window_s, max_batch
        self._queue: queue.Queue[_Request | None] = queue.Queue(maxsize=max_queue)
        self.stats = BatchStats()
        self._thread = threading.Thread(target=self._work, name="alttext-batcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Let the worker finish the batch it holds, then end it."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    async def submit(self, image: Any, name: str) -> Any:
        """The image's result; raises QueueFull when the queue is full, or the batch's error."""
        loop = asyncio.get_running_loop()
        request = _Request(image, name, loop, loop.create_future())
        try:
            self._queue.put_nowait(request)
        except queue.Full:
            raise QueueFull from None
        return await request.future

    def _work(self) -> None:
        while True:
            batch, stopping = self._gather()
            if batch:
                self._run(batch)
            if stopping:
                return

    def _gather(self) -> tuple[list[_Request], bool]:
        """The next batch: the first request, then what comes within the window, up to max_batch."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch, deadline = [first], time.monotonic() + self.window_s
        while len(batch) < self.max_batch:
            try:  # what is already waiting joins even after the window
                item = self._queue.get(timeout=max(deadline - time.monotonic(), 0)) \
                    if time.monotonic() < deadline else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self, batch: list[_Request]) -> None:
        try:
            results = list(self._caption_batch([r.image for r in batch], [r.name for r in batch]))
        except Exception as error:  # noqa: BLE001 - every waiting request hears why
            self.stats.failed_batches += 1
            for request in batch:
                request.loop.call_soon_threadsafe(_settle, request.future, None, error)
            return
        self.stats.batches += 1
        self.stats.images += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        for request, result in zip(batch, results):
            request.loop.call_soon_threadsafe(_settle, request.future, result, None)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the client went away and its handler was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
