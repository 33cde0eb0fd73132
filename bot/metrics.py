"""The gateway's health, readiness and Prometheus metrics: turns by channel and outcome with their latency, and
the backlogs people wait in (the officers' queue, notifications not yet sent)."""
from __future__ import annotations

import time
from contextlib import asynccontextmanager

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import Counter, Gauge, Histogram

from common.observability import BUCKETS, add_endpoints

from .context import CONSOLE, DATABASE, NOTIFIER, RECOGNIZER

TURNS = Counter("gateway_turns_total", "Citizens' messages taken, by channel and outcome", ["channel", "outcome"])
TURN_SECONDS = Histogram("gateway_turn_seconds", "From a citizen's message to the assistant's answer",
                         ["channel"], buckets=BUCKETS)
HANDOFF_QUEUE = Gauge("gateway_handoff_conversations", "Conversations handed to people, by status", ["status"])
NOTIFICATIONS = Gauge("gateway_notifications", "Notifications by state (pending, sending, waiting, failed…)",
                      ["state"])


@asynccontextmanager
async def turn(channel: str):
    """Counts and times one turn; its outcome is 'answered' unless the body sets another (a refusal's reason)."""
    outcome = {"value": "answered"}
    started = time.perf_counter()
    try:
        yield outcome
    except Exception:
        if outcome["value"] == "answered":
            outcome["value"] = "failed"
        raise
    finally:
        TURNS.labels(channel, outcome["value"]).inc()
        TURN_SECONDS.labels(channel).observe(time.perf_counter() - started)


def setup(app: web.Application) -> None:
    async def database() -> None:
        async with app[DATABASE].connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def recognizer() -> None:
        if app.get(RECOGNIZER) is None:
            raise LookupError("speech recogniser not loaded")

    async def backlogs() -> None:
        notifier = app.get(NOTIFIER)  # None when notifications are off
        for gauge, store in ((HANDOFF_QUEUE, app[CONSOLE].store), (NOTIFICATIONS, notifier and notifier.store)):
            gauge.clear()
            for value, count in (await store.backlog() if store is not None else {}).items():
                gauge.labels(value).set(count)

    add_endpoints(app, {"database": database, "recognizer": recognizer}, [backlogs])
