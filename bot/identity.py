"""One citizen across channels: chat accounts ("call-…", "telegram:42", "zalo:…", "web-…") linked by a phone
number that a channel itself vouches for — a hotline's signed caller number, a Telegram contact whose user is the
sender. A number merely typed links nothing: whoever links sees that citizen's reports and visits.

Once linked, the assistant lists what every linked account filed or booked, and a notification for any of them
goes to the channel the citizen chose, or else to the one they used last."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.clock import utcnow
from common.database import create_tables, insert_for
from common.wording import masked_phone

from .channel import channel_of

metadata = sa.MetaData()

links = sa.Table(
    "citizen_links", metadata,
    sa.Column("sender", sa.String(100), primary_key=True),
    sa.Column("phone", sa.String(20), nullable=False, index=True),
    sa.Column("source", sa.String(16), nullable=False),  # hotline | telegram
    sa.Column("linked_at", sa.DateTime, nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
)

choices = sa.Table(
    "citizen_choices", metadata,
    sa.Column("phone", sa.String(20), primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),  # "zalo": "báo cho tui qua Zalo"
)

MAX_ACCOUNTS = 30  # a hotline caller gets an account a call; the most recent ones are enough
PUSHED = ("telegram", "zalo")  # chat apps the assistant can write to unasked


class Identities:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create_schema(self) -> None:
        await create_tables(self.engine, metadata)

    async def link(self, sender: str, phone: str, source: str) -> None:
        """`phone` vouched for by the channel; a sender linked to another number moves to this one."""
        now = utcnow()
        async with self.engine.begin() as conn:
            await conn.execute(insert_for(conn, links).values(
                sender=sender, phone=phone, source=source, linked_at=now, seen_at=now,
            ).on_conflict_do_update(index_elements=["sender"],
                                    set_={"phone": phone, "source": source, "linked_at": now, "seen_at": now}))

    async def unlink(self, sender: str) -> bool:
        async with self.engine.begin() as conn:
            return (await conn.execute(sa.delete(links).where(links.c.sender == sender))).rowcount > 0

    async def seen(self, sender: str) -> None:
        """The citizen used this account just now: it becomes the one they used last."""
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(links).where(links.c.sender == sender).values(seen_at=utcnow()))

    async def _phone(self, conn, sender: str) -> str | None:
        return await conn.scalar(sa.select(links.c.phone).where(links.c.sender == sender))

    async def _linked(self, conn, phone: str) -> tuple[list[str], str | None]:
        """The citizen's accounts, most recently used first, and the channel they chose to be told on."""
        rows = await conn.execute(sa.select(links.c.sender).where(links.c.phone == phone)
                                  .order_by(links.c.seen_at.desc(), links.c.linked_at.desc()))
        chosen = await conn.scalar(sa.select(choices.c.channel).where(choices.c.phone == phone))
        return [row.sender for row in rows], chosen

    async def accounts(self, sender: str) -> list[str]:
        """The sender and every account linked to the same citizen, most recently used first."""
        profile = await self.profile(sender)
        return profile["accounts"] if profile else [sender]

    async def profile(self, sender: str) -> dict | None:
        """What the assistant may know of the sender's links (None: linked to nobody): the number masked, the
        channels, the one chosen for notifications, and the accounts whose reports and visits are theirs."""
        async with self.engine.connect() as conn:
            phone = await self._phone(conn, sender)
            if phone is None:
                return None
            senders, chosen = await self._linked(conn, phone)
        others = [s for s in senders if s != sender]
        return {"phone": masked_phone(phone), "channels": sorted({channel_of(s) for s in senders}),
                "notify_via": chosen, "accounts": [sender, *others][:MAX_ACCOUNTS]}

    async def choose(self, sender: str, channel: str) -> bool:
        """Notifications to this citizen go to `channel` from now on; False when none of theirs is linked there."""
        async with self.engine.begin() as conn:
            phone = await self._phone(conn, sender)
            if phone is None or channel not in {channel_of(s) for s in (await self._linked(conn, phone))[0]}:
                return False
            await conn.execute(insert_for(conn, choices).values(phone=phone, channel=channel)
                               .on_conflict_do_update(index_elements=["phone"], set_={"channel": channel}))
            return True

    async def recipient(self, account: str) -> str:
        """Where to tell the owner of `account`: the channel they chose, else the chat app they used last, else
        the account they used last (a web chat or a call: the message then waits for their next visit)."""
        async with self.engine.connect() as conn:
            phone = await self._phone(conn, account)
            if phone is None:
                return account
            senders, chosen = await self._linked(conn, phone)
        senders = senders or [account]
        return next((s for s in senders if channel_of(s) == chosen), None) \
            or next((s for s in senders if channel_of(s) in PUSHED), senders[0])
