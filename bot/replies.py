"""What the assistant last said to each sender: the buttons a spoken or typed answer may pick, the texts it may
speak. Kept in the gateway's database (SQLite, or PostgreSQL shared by every gateway), so a citizen's next message
or a request for a reply's speech may land on any gateway."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.choices import match_choice
from common.clock import utcnow
from common.database import create_tables, insert_for
from common.expected import pick

metadata = sa.MetaData()

last_replies = sa.Table(
    "reply_last", metadata,
    sa.Column("sender", sa.String(100), primary_key=True),
    sa.Column("messages", sa.JSON, nullable=False),  # the assistant's last messages to this sender
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
)

spoken_texts = sa.Table(
    "reply_texts", metadata,
    # Per sender, so that a citizen forgotten on request takes their summaries' texts along.
    sa.Column("sender", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(32), primary_key=True, index=True),  # text_key(text): the address of its speech
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)

# A reply's speech is fetched within seconds; buttons matter until the conversation's session ends (2 hours).
TEXTS_KEPT = timedelta(days=1)
LAST_KEPT = timedelta(days=2)
PRUNE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class LastReplies:
    """The assistant's last messages to one sender, and what an answer to them means."""

    messages: list[dict]

    def buttons(self) -> list[dict]:
        return next((m["buttons"] for m in reversed(self.messages) if m.get("buttons")), [])

    def titles(self) -> list[str]:
        return [b["title"] for b in self.buttons()]

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("text")]

    def understood(self, heard: str, alternatives: Sequence[str] = ()) -> str:
        """What a spoken answer says here: the recognised text, or, when it sounds like one of the last buttons
        but its words do not name it ('cò' for 'Có'), that button's title (common.expected)."""
        titles = self.titles()
        if not titles or match_choice(heard, titles) is not None:
            return heard
        picked = pick([heard, *alternatives], titles)
        return heard if picked is None else titles[picked]

    def answer(self, heard: str) -> str:
        """An answer (typed or recognised) that picks one of the last buttons becomes that button's payload."""
        buttons = self.buttons()
        picked = match_choice(heard, [b["title"] for b in buttons]) if buttons else None
        return heard if picked is None else buttons[picked]["payload"]


class ReplyMemory:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self._pruned = None

    async def create_schema(self) -> None:
        await create_tables(self.engine, metadata)

    async def remember(self, sender: str, messages: list[dict]) -> list[dict]:
        """Note the replies; each gets the key under which its text can be spoken."""
        now = utcnow()
        texts = {}
        for message in messages:
            if message.get("text"):
                message["speech"] = key = text_key(message["text"])
                texts[key] = message["text"]
        async with self.engine.begin() as conn:
            upsert = insert_for(conn, last_replies).values(sender=sender, messages=messages, updated_at=now)
            await conn.execute(upsert.on_conflict_do_update(
                index_elements=["sender"], set_={"messages": messages, "updated_at": now}))
            if texts:
                rows = [{"sender": sender, "key": key, "text": text, "created_at": now} for key, text in texts.items()]
                await conn.execute(insert_for(conn, spoken_texts).on_conflict_do_nothing(), rows)
            if self._pruned is None or now - self._pruned > PRUNE_EVERY:
                self._pruned = now
                await conn.execute(sa.delete(spoken_texts).where(spoken_texts.c.created_at < now - TEXTS_KEPT))
                await conn.execute(sa.delete(last_replies).where(last_replies.c.updated_at < now - LAST_KEPT))
        return messages

    async def last(self, sender: str) -> LastReplies:
        async with self.engine.connect() as conn:
            stored = await conn.scalar(sa.select(last_replies.c.messages).where(last_replies.c.sender == sender))
        return LastReplies(stored or [])

    async def forget(self, sender: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(last_replies).where(last_replies.c.sender == sender))
            await conn.execute(sa.delete(spoken_texts).where(spoken_texts.c.sender == sender))

    async def text(self, key: str) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.scalar(sa.select(spoken_texts.c.text).where(spoken_texts.c.key == key).limit(1))


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
