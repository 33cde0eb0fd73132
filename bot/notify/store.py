"""What the notifier keeps, shared by every gateway: how far the city's events feed has been read, and one row per
notification whose unique key makes planning it twice harmless and whose state a gateway claims before sending.

States: pending (due at due_at) -> sending (claimed until lease_until: a gateway that dies mid-send loses the
claim) -> sent | waiting (for the citizen's next visit) | failed (after the last retry: officers see it) |
cancelled (a visit cancelled before its reminder)."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.database import count_by, create_tables, insert_for

metadata = sa.MetaData()

cursor = sa.Table(
    "notify_cursor", metadata,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(80), nullable=False, unique=True),  # "status:<event id>", "reminder:<visit>"
    sa.Column("kind", sa.String(16), nullable=False),  # status | reminder
    sa.Column("account", sa.String(100), nullable=False, index=True),  # the chat that filed or booked
    sa.Column("subject", sa.String(40), nullable=False),  # the case or the visit
    sa.Column("message", sa.JSON),  # {"text", "buttons"}; a reminder's is written when it is due
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("recipient", sa.String(100), index=True),  # where it went, or waits
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("lease_until", sa.DateTime),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index("ix_notifications_state_due", "state", "due_at"),
)

FEED = "events"


class NotifyStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create_schema(self) -> None:
        await create_tables(self.engine, metadata)

    async def backlog(self) -> dict[str, int]:
        """Notifications by state, for metrics."""
        return await count_by(self.engine, notifications.c.state)

    async def position(self) -> int:
        async with self.engine.connect() as conn:
            return await conn.scalar(sa.select(cursor.c.value).where(cursor.c.name == FEED)) or 0

    async def ingest(self, last: int, planned: list[dict], cancelled: list[str], forgotten: list[str]) -> None:
        """The notifications planned from the events up to `last`, in one transaction with the cursor: a gateway
        that stops half-way reads the same events again and plans nothing twice."""
        n = notifications
        async with self.engine.begin() as conn:
            await conn.execute(insert_for(conn, cursor).values(name=FEED, value=0).on_conflict_do_nothing())
            await conn.execute(sa.update(cursor).where(cursor.c.name == FEED, cursor.c.value < last)
                               .values(value=last))
            if planned:
                await conn.execute(insert_for(conn, n).on_conflict_do_nothing(index_elements=["key"]), planned)
            if cancelled:
                await conn.execute(sa.update(n).where(n.c.key.in_(cancelled), n.c.state == "pending")
                                   .values(state="cancelled"))
            if forgotten:  # the citizen asked to be forgotten: nothing more is said about what they filed
                await conn.execute(sa.delete(n).where(n.c.account.in_(forgotten) | n.c.recipient.in_(forgotten)))

    async def claim_due(self, now: datetime, lease: timedelta, limit: int = 50) -> list[sa.Row]:
        """Due notifications, each claimed by this gateway alone (a conditional UPDATE per row)."""
        n = notifications
        due = (n.c.state == "pending") & (n.c.due_at <= now) | (n.c.state == "sending") & (n.c.lease_until < now)
        async with self.engine.begin() as conn:
            ids = list((await conn.execute(sa.select(n.c.id).where(due).order_by(n.c.due_at, n.c.id)
                                           .limit(limit))).scalars())
            claimed = []
            for ident in ids:
                row = (await conn.execute(sa.update(n).where(n.c.id == ident, due)
                                          .values(state="sending", lease_until=now + lease)
                                          .returning(*n.c))).first()
                if row is not None:
                    claimed.append(row)
        return claimed

    async def settle(self, ident: int, state: str, recipient: str | None = None, message: dict | None = None,
                     sent_at: datetime | None = None) -> None:
        values = {"state": state, "lease_until": None, "recipient": recipient, "sent_at": sent_at}
        if message is not None:
            values["message"] = message
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(notifications).where(notifications.c.id == ident).values(**values))

    async def retry(self, ident: int, due: datetime) -> None:
        n = notifications
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(n).where(n.c.id == ident).values(
                state="pending", due_at=due, lease_until=None, attempts=n.c.attempts + 1))

    async def take_waiting(self, recipients: list[str], now: datetime) -> list[sa.Row]:
        """The notifications waiting for any of these accounts, oldest first, each taken once (by one gateway)."""
        n = notifications
        async with self.engine.begin() as conn:
            rows = list(await conn.execute(sa.select(n).where(n.c.state == "waiting", n.c.recipient.in_(recipients))
                                           .order_by(n.c.id)))
            taken = []
            for row in rows:
                done = await conn.execute(sa.update(n).where(n.c.id == row.id, n.c.state == "waiting")
                                          .values(state="sent", sent_at=now))
                if done.rowcount:
                    taken.append(row)
        return taken
