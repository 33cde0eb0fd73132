"""The threads that recognise speech: one per core, shared by every call and voice note, the most urgent work first.

Recognition is CPU-bound native code that releases the GIL, so threads spread it over the cores; more threads than
cores would only slice every caller's work thinner. When the cores cannot keep up, the audio of a caller who has
stopped talking (someone waiting for an answer) goes before the audio of callers still speaking, who have the
length of their own pause in hand.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

URGENT, STREAMING, BATCH = 0, 1, 2  # a caller waiting; a caller speaking; a whole recording (a voice note)


def cores() -> int:
    """The cores this process may run on (a container's share, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class SpeechWorkers:
    def __init__(self, threads: int | None = None):
        self.threads = threads or cores()
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()  # first come, first served within a priority
        self._started = False
        self._starting = threading.Lock()

    async def run(self, priority: int, work: Callable[..., Any], *args: Any) -> Any:
        """`work(*args)` on a speech thread; its result, or its exception."""
        self._start()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._jobs.put((priority, next(self._order), work, args, loop, done))
        return await done

    def waiting(self) -> int:
        return self._jobs.qsize()

    def _start(self) -> None:
        with self._starting:
            if not self._started:
                for n in range(self.threads):
                    threading.Thread(target=self._work, name=f"speech-{n}", daemon=True).start()
                self._started = True

    def _work(self) -> None:
        while True:
            _, _, work, args, loop, done = self._jobs.get()
            if done.cancelled():  # its caller hung up while it waited
                continue
            try:
                outcome = (work(*args), None)
            except BaseException as error:  # handed to the waiting coroutine
                outcome = (None, error)
            try:
                loop.call_soon_threadsafe(_settle, done, *outcome)
            except RuntimeError:  # its event loop has closed: nobody waits any more
                pass


def _settle(done: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


_shared: SpeechWorkers | None = None


def speech_workers() -> SpeechWorkers:
    """The process's speech threads."""
    global _shared
    if _shared is None:
        _shared = SpeechWorkers()
    return _shared
