"""The Batcher on its own: how requests are grouped, the bounded queue, errors reaching every caller."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from alttext.serve.batcher import Batcher, QueueFull


class Recorder:
    """A batch function that upper-cases its inputs and remembers each batch; `gate` holds it."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.entered = threading.Event()  # set once the worker is inside a call
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, images: Sequence[str], names: Sequence[str]) -> list[str]:
        self.entered.set()
        self.gate.wait(10)
        self.batches.append(list(images))
        return [f"{image.upper()} ({name})" for image, name in zip(images, names)]


def run_batcher(batcher: Batcher, work: object) -> object:
    async def main() -> object:
        batcher.start()
        try:
            return await work(batcher)  # type: ignore[operator]
        finally:
            await asyncio.to_thread(batcher.stop)

    return asyncio.run(main())


@pytest.mark.parametrize(("count", "max_batch", "expected"), [
    pytest.param(1, 4, [1], id="one"),
    pytest.param(10, 4, [4, 4, 2], id="full-batches"),
    pytest.param(5, 32, [5], id="one-window"),
])
def test_requests_within_the_window_share_a_batch(count: int, max_batch: int, expected: list[int]) -> None:
    recorder = Recorder()
    batcher = Batcher(recorder, window_s=0.5, max_batch=max_batch)

    async def work(batcher: Batcher) -> list[str]:
        return list(await asyncio.gather(*(batcher.submit(f"i{n}", f"n{n}") for n in range(count))))

    assert run_batcher(batcher, work) == [f"I{n} (n{n})" for n in range(count)]
    assert [len(batch) for batch in recorder.batches] == expected
    assert batcher.stats.batches == len(expected) and batcher.stats.images == count
    assert batcher.stats.largest_batch == max(expected)


def test_a_full_queue_refuses_at_once() -> None:
    recorder = Recorder()
    recorder.gate.clear()  # the worker holds its first batch until released
    batcher = Batcher(recorder, window_s=0, max_batch=1, max_queue=2)

    async def work(batcher: Batcher) -> tuple[list[object], list[str]]:
        first = asyncio.ensure_future(batcher.submit("a", "a"))
        await asyncio.to_thread(recorder.entered.wait, 10)  # the worker holds it: the queue is empty again
        waiting = [asyncio.ensure_future(batcher.submit(x, x)) for x in "bc"]
        await asyncio.sleep(0)
        refused = await asyncio.gather(batcher.submit("d", "d"), return_exceptions=True)
        recorder.gate.set()
        return refused, [await first, *[await future for future in waiting]]

    refused, answered = run_batcher(batcher, work)  # type: ignore[misc]
    assert isinstance(refused[0], QueueFull)
    assert answered == ["A (a)", "B (b)", "C (c)"]


def test_a_failing_batch_fails_each_of_its_requests() -> None:
    def broken(images: Sequence[str], names: Sequence[str]) -> list[str]:
        raise RuntimeError("model gone")

    batcher = Batcher(broken, window_s=0.2)

    async def work(batcher: Batcher) -> list[object]:
        return list(await asyncio.gather(*(batcher.submit(x, x) for x in "ab"), return_exceptions=True))

    errors = run_batcher(batcher, work)
    assert [str(error) for error in errors] == ["model gone", "model gone"]  # type: ignore[attr-defined]
    assert batcher.stats.failed_batches == 1 and batcher.stats.batches == 0


@pytest.mark.parametrize("options", [{"max_batch": 0}, {"max_queue": 0}, {"window_s": -1}])
def test_options_are_checked(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="at least"):
        Batcher(lambda images, names: [], **options)  # type: ignore[arg-type]
