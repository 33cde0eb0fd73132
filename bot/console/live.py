"""Live updates over server-sent events: the queue and transcripts to every officer's console, and officers'
replies to a citizen's open web chat, on whichever gateway holds the page (bot/bus.py)."""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from ..bus import OFFICERS, citizen_topic

HEARTBEAT = 15.0  # seconds: a comment line keeps proxies from closing a quiet stream


class Hub:
    def __init__(self, bus):
        self.bus = bus

    async def to_officers(self, event: dict) -> None:
        await self.bus.publish(OFFICERS, event)

    async def to_citizen(self, sender: str, message: dict) -> bool:
        """False when the citizen's page is open nowhere: the message waits for it."""
        return await self.bus.publish(citizen_topic(sender), message) > 0

    async def stream_officer(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, OFFICERS, [])

    async def stream_citizen(self, request: web.Request, sender: str, waiting: list[dict]) -> web.StreamResponse:
        return await self._stream(request, citizen_topic(sender), waiting)

    async def _stream(self, request: web.Request, topic: str, first: list[dict]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        try:
            async with self.bus.listen(topic) as queue:
                for event in first:
                    queue.put_nowait(event)
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), HEARTBEAT)
                        await response.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
                    except TimeoutError:
                        await response.write(b": still here\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response
