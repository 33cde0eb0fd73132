"""The speech threads: as many as asked, the most urgent work first, failures and hang-ups handed back."""
from __future__ import annotations

import asyncio
import threading

import pytest

from voice.workers import BATCH, STREAMING, URGENT, SpeechWorkers


async def _busy(workers: SpeechWorkers) -> tuple[threading.Event, asyncio.Task]:
    """Occupy the workers' only thread until the returned event is set."""
    release, running = threading.Event(), threading.Event()

    def hold() -> None:
        running.set()
        release.wait(10)

    task = asyncio.create_task(workers.run(STREAMING, hold))
    await asyncio.to_thread(running.wait, 10)
    return release, task


async def test_a_caller_who_has_stopped_goes_before_those_still_speaking():
    workers, order = SpeechWorkers(threads=1), []
    release, held = await _busy(workers)
    jobs = [asyncio.create_task(workers.run(priority, order.append, name))
            for priority, name in ((BATCH, "voice note"), (STREAMING, "speaking 1"), (STREAMING, "speaking 2"),
                                   (URGENT, "stopped"))]
    await asyncio.sleep(0.05)
    assert workers.waiting() == 4
    release.set()
    await asyncio.gather(held, *jobs)
    assert order == ["stopped", "speaking 1", "speaking 2", "voice note"]


async def test_results_and_failures_come_back_to_the_caller():
    workers = SpeechWorkers(threads=2)
    assert await workers.run(URGENT, sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        await workers.run(URGENT, lambda: 1 / 0)
    assert await workers.run(STREAMING, str.upper, "vẫn chạy") == "VẪN CHẠY"  # the thread survived


async def test_work_of_a_caller_who_hung_up_while_it_waited_is_not_done():
    workers, done = SpeechWorkers(threads=1), []
    release, held = await _busy(workers)
    waiting = asyncio.create_task(workers.run(STREAMING, done.append, "late"))
    await asyncio.sleep(0.05)
    waiting.cancel()
    release.set()
    await held
    assert await workers.run(STREAMING, done.append, "next") is None
    assert done == ["next"]

