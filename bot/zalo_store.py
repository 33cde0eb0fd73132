"""What the Zalo channel keeps, in the gateway's database so that every gateway shares it: the token pair (and who
is renewing it), events already taken, each citizen's reply window, and replies waiting for their next message."""
from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common import clock
from common.database import create_tables, insert_for

from .settings import ZaloSettings

metadata = sa.MetaData()

tokens = sa.Table(
    "zalo_tokens", metadata,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("access_token", sa.Text),  # None until the first renewal: the configured pair is used
    sa.Column("refresh_token", sa.Text),
    sa.Column("expires_at", sa.Float),  # Unix time
    sa.Column("renewing_until", sa.Float),  # a gateway renewing the pair holds this lease
)
seen = sa.Table(
    "zalo_seen", metadata,
    sa.Column("event", sa.String(200), primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
)
windows = sa.Table(
    "zalo_windows", metadata,
    sa.Column("user_id", sa.String(100), primary_key=True),
    sa.Column("since", sa.Float, nullable=False),
    sa.Column("message_id", sa.String(200)),
    sa.Column("replies", sa.Integer, nullable=False, default=0),
)
waiting = sa.Table(
    "zalo_waiting", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(100), nullable=False, index=True),
    sa.Column("message", sa.Text, nullable=False),
)

OA = "oa"
LEASE = 30.0  # seconds a renewal may take (the OAuth call has a 20 s timeout)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: float  # Unix time


async def create_schema(engine: AsyncEngine) -> None:
    await create_tables(engine, metadata)


class TokenStore:
    """The current pair. A renewal is leased to one gateway at a time: the refresh token is single-use."""

    def __init__(self, engine: AsyncEngine, settings: ZaloSettings):
        self.engine, self.settings = engine, settings
        self._local = asyncio.Lock()

    async def read(self) -> TokenPair:
        """The stored pair; before the first renewal, the configured first values."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(tokens).where(tokens.c.name == OA))).first()
        if row is None or row.access_token is None:
            # Unknown age: treat the configured token as fresh; Zalo's -216 says when it is not.
            return TokenPair(self.settings.first_access_token, self.settings.first_refresh_token,
                             clock.now().timestamp() + 3600 * 24)
        return TokenPair(row.access_token, row.refresh_token, row.expires_at)

    async def save(self, pair: TokenPair) -> None:
        """Committed before the caller uses it: the old refresh token is spent once Zalo answered."""
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(tokens).where(tokens.c.name == OA).values(
                access_token=pair.access_token, refresh_token=pair.refresh_token, expires_at=pair.expires_at))

    @asynccontextmanager
    async def exclusive(self):
        """One renewal at a time across every gateway: a lease on the pair's row, taken by a conditional update."""
        async with self._local:
            async with self.engine.begin() as conn:
                await conn.execute(insert_for(conn, tokens).values(name=OA).on_conflict_do_nothing())
            while True:
                now = clock.now().timestamp()
                async with self.engine.begin() as conn:
                    taken = await conn.execute(sa.update(tokens).where(
                        tokens.c.name == OA,
                        sa.or_(tokens.c.renewing_until.is_(None), tokens.c.renewing_until < now),
                    ).values(renewing_until=now + LEASE))
                if taken.rowcount == 1:
                    break
                await asyncio.sleep(0.1)
            try:
                yield
            finally:
                async with self.engine.begin() as conn:
                    await conn.execute(sa.update(tokens).where(tokens.c.name == OA).values(renewing_until=None))


class ZaloState:
    """Events seen, reply windows and waiting replies."""

    def __init__(self, engine: AsyncEngine, settings: ZaloSettings):
        self.engine, self.settings = engine, settings

    async def first_time(self, event: str) -> bool:
        """False for an event already taken (Zalo retries; a replay), by this gateway or another."""
        now = clock.now().timestamp()
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(seen).where(seen.c.at < now - 24 * 3600))
            taken = await conn.execute(insert_for(conn, seen).values(event=event, at=now).on_conflict_do_nothing())
            return taken.rowcount == 1

    async def heard_from(self, user_id: str, message_id: str | None) -> None:
        now = clock.now().timestamp()
        async with self.engine.begin() as conn:
            upsert = insert_for(conn, windows).values(user_id=user_id, since=now, message_id=message_id, replies=0)
            await conn.execute(upsert.on_conflict_do_update(
                index_elements=["user_id"], set_={"since": now, "message_id": message_id, "replies": 0}))

    async def reply_to(self, user_id: str) -> dict | None:
        """The recipient for one more free reply, counted; None outside the window. One conditional update, so
        two gateways replying at once never count past the free replies."""
        opened_after = clock.now().timestamp() - self.settings.reply_window_hours * 3600
        async with self.engine.begin() as conn:
            counted = await conn.execute(sa.update(windows).where(
                windows.c.user_id == user_id, windows.c.since >= opened_after,
                windows.c.replies < self.settings.free_replies,
            ).values(replies=windows.c.replies + 1).returning(windows.c.message_id))
            row = counted.first()
        if row is None:
            return None
        return {"user_id": user_id, **({"message_id": row.message_id} if row.message_id else {})}

    async def wait(self, user_id: str, message: dict) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.insert(waiting).values(user_id=user_id,
                                                         message=json.dumps(message, ensure_ascii=False)))

    async def take_waiting(self, user_id: str) -> list[dict]:
        """Each waiting reply taken once, in order, by whichever gateway hears the citizen next."""
        async with self.engine.begin() as conn:
            rows = list(await conn.execute(sa.delete(waiting).where(waiting.c.user_id == user_id)
                                           .returning(waiting.c.id, waiting.c.message)))
        return [json.loads(message) for _, message in sorted(rows)]
