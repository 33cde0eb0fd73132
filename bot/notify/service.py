"""The citizen is told without asking: the city's events feed is read into notifications (bot/notify/store.py),
which any gateway sends when due, outside the quiet hours, on the channel the citizen uses; where nothing can be
pushed (a closed web chat, a caller, a chat app that failed) the message waits for the citizen's next visit."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web

from common.clock import now, to_utc, utcnow

from ..channel import CHANNELS, Answer, Undelivered, channel_of, deliver
from ..context import CONSOLE, MEMORY
from ..identity import Identities
from ..settings import NotifySettings
from . import plan
from .store import NotifyStore

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a send takes seconds; a gateway that died holding one gives it up after this
PAGE = 500
BATCH = 50


class CityFeed:
    """cityapi as the notifier reads it: the events feed and the appointments it names (client key)."""

    def __init__(self, base_url: str, api_key: str):
        self.base_url, self.auth = base_url, {"Authorization": f"Bearer {api_key}"}
        self.session: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self.session

    async def events(self, since: int) -> list[dict]:
        async with self._session().get(f"{self.base_url}/events", params={"since": since, "limit": PAGE},
                                       headers=self.auth) as response:
            response.raise_for_status()
            return (await response.json())["events"]

    async def appointment(self, ident: str) -> dict | None:
        async with self._session().get(f"{self.base_url}/fhir/R4/Appointment/{ident}",
                                       headers=self.auth) as response:
            if response.status == 404:
                return None
            response.raise_for_status()
            return await response.json(content_type=None)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


def _iso_utc(text: str) -> datetime:
    return to_utc(datetime.fromisoformat(text))


class Notifier:
    def __init__(self, app: web.Application, store: NotifyStore, identities: Identities, feed: CityFeed,
                 settings: NotifySettings):
        self.app, self.store, self.identities, self.feed, self.settings = app, store, identities, feed, settings

    async def run(self) -> None:
        """Read the feed and send what is due, for ever; a failure is logged and tried again next round."""
        while True:
            try:
                await self.ingest()
                await self.send_due()
            except (aiohttp.ClientError, TimeoutError, OSError) as failure:
                log.warning("notifications: cityapi not reachable (%s)", type(failure).__name__)
            except Exception:  # the loop must outlive a database hiccup
                log.exception("notifications: a round failed")
            await asyncio.sleep(self.settings.poll_seconds)

    # -- events -> notifications

    async def ingest(self) -> int:
        """Plan the notifications of every event past the stored cursor; how many events were read."""
        read = 0
        while True:
            since = await self.store.position()
            events = await self.feed.events(since)
            if not events:
                return read
            planned, cancelled, forgotten = [], [], []
            for event in events:
                await self._plan(event, planned, cancelled, forgotten)
            await self.store.ingest(events[-1]["id"], planned, cancelled, forgotten)
            read += len(events)
            if len(events) < PAGE:
                return read

    async def _plan(self, event: dict, planned: list, cancelled: list, forgotten: list) -> None:
        data, created = event.get("data") or {}, utcnow()
        if event["type"] == "service_request.updated" and data.get("account_id"):
            planned.append({"key": f"status:{event['id']}", "kind": "status", "account": data["account_id"],
                            "subject": event["subject"], "message": plan.status_message(data),
                            "due_at": created, "state": "pending", "attempts": 0, "created_at": created})
        elif event["type"] == "appointment.booked" and data.get("account_id"):
            appointment = await self.feed.appointment(event["subject"])
            if appointment is None or appointment.get("status") != "booked":
                return
            due = plan.reminder_due(datetime.fromisoformat(appointment["start"]),
                                    datetime.fromisoformat(event["time"]), self.settings)
            if due is not None:
                planned.append({"key": f"reminder:{event['subject']}", "kind": "reminder",
                                "account": data["account_id"], "subject": event["subject"], "message": None,
                                "due_at": to_utc(due), "state": "pending", "attempts": 0, "created_at": created})
        elif event["type"] == "appointment.cancelled":
            cancelled.append(f"reminder:{event['subject']}")
        elif event["type"] == "account.forgotten":
            forgotten.append(event["subject"])

    # -- sending

    async def send_due(self) -> int:
        """Send the due notifications this gateway claims; none in the quiet hours. How many went or wait."""
        if plan.is_quiet(now(), self.settings):
            return 0
        done = 0
        while True:  # a backlog goes out batch after batch, not one batch a round
            claimed = await self.store.claim_due(utcnow(), LEASE, BATCH)
            for row in claimed:
                done += await self._send(row)
            if len(claimed) < BATCH:
                return done

    async def _send(self, row) -> int:
        message = row.message
        if row.kind == "reminder":
            appointment = await self.feed.appointment(row.subject)
            if appointment is None or appointment.get("status") != "booked" \
                    or _iso_utc(appointment["start"]) <= utcnow():
                await self.store.settle(row.id, "cancelled")
                return 0
            message = plan.reminder_message(appointment)
        recipient = await self.identities.recipient(row.account)
        try:
            state = await self._push(recipient, message)
        except (Undelivered, aiohttp.ClientError, TimeoutError, OSError) as failure:
            await self._failed(row, recipient, message, failure)
            return 0
        await self.store.settle(row.id, state, recipient, message, utcnow() if state == "sent" else None)
        log.info("notification %s %s on %s", row.key, state, channel_of(recipient))
        return 1

    async def _push(self, recipient: str, message: dict) -> str:
        """"sent" when the citizen's channel took it now, "waiting" when it waits for their next visit."""
        channel = channel_of(recipient)
        if channel == "web":
            live = await self.app[CONSOLE].hub.to_citizen(recipient, {**message, "officer": None})
            return "sent" if live else "waiting"
        if channel not in self.app.get(CHANNELS, {}):
            return "waiting"  # a caller (called back by nobody), or a chat app this gateway is not set up for
        await self.app[MEMORY].remember(recipient, [message])  # its buttons, tapped or said, pick as the assistant's do
        await deliver(self.app, recipient, Answer([dict(message)]))
        return "sent"

    async def _failed(self, row, recipient: str, message: dict, failure: Exception) -> None:
        retries = self.settings.retry_seconds
        if row.attempts < len(retries):
            log.warning("notification %s not delivered (%s); again in %.0f s", row.key, type(failure).__name__,
                        retries[row.attempts])
            await self.store.retry(row.id, utcnow() + timedelta(seconds=retries[row.attempts]))
            return
        log.warning("notification %s not delivered after %d tries: shown to officers", row.key, row.attempts + 1)
        await self.store.settle(row.id, "failed", recipient, message)
        await self.app[CONSOLE].handed_off(recipient, {
            "reason": "undelivered", "said": "", "known": {},
            "recent": [{"from": "bot", "text": message["text"]}]})

    async def waiting_for(self, accounts: list[str]) -> list[dict]:
        """What waited for this citizen (on any of their linked accounts), said first, each once."""
        rows = await self.store.take_waiting(accounts, utcnow())
        return [plan.told_first(row.message) for row in rows]

    async def close(self) -> None:
        await self.feed.close()



