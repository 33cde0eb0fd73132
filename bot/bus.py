"""Events for whoever listens, on any gateway: officers' consoles, a citizen's open web chat, a live call.
In this process on the embedded default; through Redis publish/subscribe when REDIS_HOST is set, so that an
officer's reply reaches the page or the call that another gateway holds open."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

log = logging.getLogger(__name__)

PREFIX = "trolyhue:bus:"
OFFICERS = "officers"  # every officer's console


def citizen_topic(sender: str) -> str:
    """A citizen's open web chat page."""
    return f"citizen:{sender}"


def call_topic(sender: str) -> str:
    """A live hotline call: an officer's words to speak into it."""
    return f"call:{sender}"


class LocalBus:
    """One gateway: listeners are this process's queues."""

    def __init__(self):
        self._listeners: dict[str, set[asyncio.Queue]] = {}

    async def publish(self, topic: str, event: dict) -> int:
        """How many gateways had a listener for the topic (0 or 1 here)."""
        listeners = self._listeners.get(topic) or set()
        for queue in listeners:
            queue.put_nowait(event)
        return 1 if listeners else 0

    @contextlib.asynccontextmanager
    async def listen(self, topic: str) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue()
        self._listeners.setdefault(topic, set()).add(queue)
        try:
            await self._subscribed(topic)
            yield queue
        finally:
            listeners = self._listeners.get(topic, set())
            listeners.discard(queue)
            if not listeners:
                self._listeners.pop(topic, None)
                await self._unsubscribed(topic)

    async def _subscribed(self, topic: str) -> None:
        pass

    async def _unsubscribed(self, topic: str) -> None:
        pass

    async def close(self) -> None:
        pass


class RedisBus(LocalBus):
    """Every gateway: a gateway subscribes to a topic while one of its own listeners wants it, so the count a
    publish returns says whether anyone, anywhere, is listening."""

    def __init__(self, client):
        super().__init__()
        self.client = client
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._reader: asyncio.Task | None = None

    async def publish(self, topic: str, event: dict) -> int:
        """0 with Redis down: nobody known to listen, so a message for a page waits for its next visit."""
        try:
            return await self.client.publish(PREFIX + topic, json.dumps(event, ensure_ascii=False))
        except Exception as failure:  # redis-py's connection and timeout errors have no common public base
            log.warning("bus: publishing failed: %s", type(failure).__name__)
            return 0

    async def _subscribed(self, topic: str) -> None:
        if len(self._listeners[topic]) == 1:
            try:
                await self.pubsub.subscribe(PREFIX + topic)
            except Exception as failure:
                log.warning("bus: subscribing failed: %s", type(failure).__name__)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())

    async def _unsubscribed(self, topic: str) -> None:
        try:
            await self.pubsub.unsubscribe(PREFIX + topic)
        except Exception as failure:
            log.warning("bus: unsubscribing failed: %s", type(failure).__name__)

    async def _read(self) -> None:
        while True:
            try:
                if not self.pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                message = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as failure:  # Redis restarting: listeners wait, nothing else breaks
                log.warning("bus: reading Redis failed: %s", type(failure).__name__)
                await asyncio.sleep(1.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            topic = message["channel"].decode()[len(PREFIX):]
            event = json.loads(message["data"])
            for queue in self._listeners.get(topic, ()):
                queue.put_nowait(event)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.pubsub.aclose()
        await self.client.aclose()
