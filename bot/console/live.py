"""Live updates over server-sent events: the queue and transcripts to every officer's console, and officers'
replies to a citizen's open web chat."""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

HEARTBEAT = 15.0  # seconds: a comment line keeps proxies from closing a quiet stream


class Hub:
    def __init__(self):
        self._officers: set[asyncio.Queue] = set()
        self._citizens: dict[str, set[asyncio.Queue]] = {}

    def to_officers(self, event: dict) -> None:
        for queue in self._officers:
            queue.put_nowait(event)

    def to_citizen(self, sender: str, message: dict) -> bool:
        """False when the citizen's page is not open: the message waits for it."""
        listeners = self._citizens.get(sender) or set()
        for queue in listeners:
            queue.put_nowait(message)
        return bool(listeners)

    async def stream_officer(self, request: web.Request) -> web.StreamResponse:
        return await _stream(request, self._officers, [])

    async def stream_citizen(self, request: web.Request, sender: str, waiting: list[dict]) -> web.StreamResponse:
        return await _stream(request, self._citizens.setdefault(sender, set()), waiting)

    def forget(self, sender: str) -> None:
        self._citizens.pop(sender, None)


async def _stream(request: web.Request, listeners: set, first: list[dict]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    queue: asyncio.Queue = asyncio.Queue()
    for event in first:
        queue.put_nowait(event)
    listeners.add(queue)
    try:
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT)
                await response.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
            except TimeoutError:
                await response.write(b": still here\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        listeners.discard(queue)
    return response
