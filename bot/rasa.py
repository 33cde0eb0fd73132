"""Rasa's REST channel, as every channel of the gateway uses it."""
from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiohttp

from common.logs import request_id
from common.observability import outgoing_headers


class RasaUnavailable(Exception):
    pass


class RasaClient:
    def __init__(self, base_url: str, timeout: float, token: str | None = None, in_flight: int = 64,
                 queue_wait: float = 5.0):
        """`token`: Rasa's HTTP API token (RASA_TOKEN), for writing to a conversation's tracker. At most
        `in_flight` turns wait for Rasa at once; one more waits `queue_wait` seconds for its turn, then is refused
        (RasaUnavailable): a slow Rasa or action server costs citizens a polite "busy", not a pile of requests."""
        self.base_url, self.token = base_url, token
        self.url = f"{base_url}/webhooks/rest/webhook"
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._slots, self._queue_wait = asyncio.Semaphore(in_flight), queue_wait

    async def append(self, sender: str, events: list[dict]) -> None:
        """Add events to a conversation: pause, resume, an officer's words (Rasa's HTTP API)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        url = f"{self.base_url}/conversations/{quote(sender, safe='')}/tracker/events"
        try:
            async with self._session.post(url, json=events, params={"token": self.token or ""}) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RasaUnavailable(repr(error)) from error

    async def send(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        """The assistant's answers: [{"text", "buttons", "image"}] for the citizen, [{"custom"}] for the gateway,
        in order. `metadata` reaches the actions (the first message's, as the slot session_started_metadata)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            await asyncio.wait_for(self._slots.acquire(), self._queue_wait)
        except TimeoutError:
            raise RasaUnavailable("too many turns waiting for Rasa") from None
        try:
            return await self._send(sender, text, metadata)
        finally:
            self._slots.release()

    async def _send(self, sender: str, text: str, metadata: dict | None) -> list[dict]:
        try:
            # The request id rides in the message's metadata: the actions read it there (actions/services.py).
            metadata = {**(metadata or {}), **({"request_id": request_id.get()} if request_id.get() else {})}
            body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
            async with self._session.post(self.url, json=body, headers=outgoing_headers()) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"HTTP {response.status}")
                replies = await response.json()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RasaUnavailable(repr(error)) from error
        return [{"custom": r["custom"]} if "custom" in r else
                {"text": r.get("text", ""), "buttons": r.get("buttons") or [],
                 **({"image": r["image"]} if r.get("image") else {})} for r in replies]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
