"""What the action server keeps on disk: reports waiting for the city.

A report the city could not take is kept with the idempotency key of its first attempt
and sent later (the outbox); a report that did reach the city before the connection
broke is therefore not filed a second time.
"""
from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.clock import utcnow
from common.database import count_by, create_tables, insert_for, patient

from .clients.http import CityRefused, CityUnavailable
from .clients.open311 import Open311Client

log = logging.getLogger(__name__)

metadata = sa.MetaData()

pending_reports = sa.Table(
    "pending_reports", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.Text, nullable=False, index=True),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("report", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("state", sa.String(10), nullable=False, default="pending"),  # pending, sent, refused
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("case_id", sa.String(20)),
    sa.Column("sent_at", sa.DateTime),
)

class Store:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create_schema(self) -> None:
        await create_tables(self.engine, metadata)

    @patient()
    async def keep(self, sender_id: str, idempotency_key: str, report: dict) -> None:
        """Kept once per key: the same turn retried on another action server is the same report."""
        async with self.engine.begin() as conn:
            await conn.execute(insert_for(conn, pending_reports).values(
                sender_id=sender_id, idempotency_key=idempotency_key, report=report,
                created_at=utcnow(), state="pending", attempts=1).on_conflict_do_nothing(
                index_elements=["idempotency_key"]))

    async def backlog(self) -> dict[str, int]:
        """Kept reports by state (pending: not yet taken by the city), for metrics."""
        return await count_by(self.engine, pending_reports.c.state)

    @patient()
    async def unsent(self, sender_id: str | None = None) -> list[sa.Row]:
        t = pending_reports
        query = sa.select(t).where(t.c.state == "pending").order_by(t.c.id)
        if sender_id is not None:
            query = query.where(t.c.sender_id == sender_id)
        async with self.engine.connect() as conn:
            return list(await conn.execute(query))

    async def drain(self, open311: Open311Client) -> int:
        """Send what is kept, oldest first; stop at the first sign the city is still down."""
        sent = 0
        t = pending_reports
        for row in await self.unsent():
            try:
                result = await open311.create(row.report, row.idempotency_key)
            except CityUnavailable as error:
                await self._failed(row.id, str(error))
                break
            except CityRefused as error:
                # The city will never take this one: keep it for an officer, stop retrying.
                await self._failed(row.id, f"refused: {error.message}", give_up=True)
                continue
            async with self.engine.begin() as conn:
                await conn.execute(sa.update(t).where(t.c.id == row.id).values(
                    state="sent", case_id=result["service_request_id"], sent_at=utcnow()))
            sent += 1
            log.info("kept report %d sent as %s", row.id, result["service_request_id"])
        return sent

    async def _failed(self, row_id: int, error: str, give_up: bool = False) -> None:
        t = pending_reports
        values = {"attempts": t.c.attempts + 1, "last_error": error}
        if give_up:
            values["state"] = "refused"
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(t).where(t.c.id == row_id).values(**values))

    @patient()
    async def forget(self, sender_id: str) -> list[str]:
        """Erase what this store keeps of a citizen: kept reports lose the phone (they are still sent). Returns
        the photos those kept reports will carry."""
        t = pending_reports
        photos = []
        async with self.engine.begin() as conn:
            for row in await conn.execute(sa.select(t.c.id, t.c.report).where(t.c.sender_id == sender_id)):
                report = {k: v for k, v in row.report.items() if k not in ("phone", "first_name", "last_name")}
                await conn.execute(sa.update(t).where(t.c.id == row.id).values(report=report))
                if report.get("media_url"):
                    photos.append(report["media_url"])
        return photos


async def drain_forever(store: Store, open311: Open311Client, interval: float) -> None:
    while True:
        try:
            await store.drain(open311)
        except Exception:
            log.exception("outbox drain failed; trying again later")
        await asyncio.sleep(interval)
