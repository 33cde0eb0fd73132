"""What the officer console keeps: accounts and sessions, the queue of conversations handed to people, their
transcripts, and an audit of every officer action. SQLite by default, PostgreSQL by URL (common/database.py);
a gateway restart loses none of it."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.clock import utcnow
from common.database import count_by, create_tables

from ..channel import channel_of

metadata = sa.MetaData()

officers = sa.Table(
    "console_officers", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # officer | volunteer
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime),
)

sessions = sa.Table(
    "console_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # the cookie's token is never stored
    sa.Column("username", sa.String(64), sa.ForeignKey("console_officers.username", ondelete="CASCADE"),
              nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

conversations = sa.Table(
    "console_conversations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender", sa.Text, nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("context", sa.JSON, nullable=False),  # what the assistant knew: form, name, phone…
    sa.Column("status", sa.String(16), nullable=False),  # queued | held | closed
    sa.Column("holder", sa.String(64)),  # the officer holding it
    sa.Column("assigned_to", sa.String(64)),  # a volunteer it was given to
    sa.Column("touched_at", sa.DateTime),  # the holder's last action: idle holders are reminded, then relieved
    sa.Column("reminded_at", sa.DateTime),  # the idle reminder, claimed by one gateway of many
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

messages = sa.Table(
    "console_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("console_conversations.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("author", sa.String(16), nullable=False),  # citizen | assistant | officer
    sa.Column("officer", sa.Text),  # the officer's display name
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("image", sa.Text),
    sa.Column("audio", sa.String(64)),  # a voice note's recording, by file name (bot/console/service.py)
    sa.Column("delivery", sa.String(16), nullable=False, default="sent"),  # sent | waiting | failed
    sa.Column("at", sa.DateTime, nullable=False),
)

audit = sa.Table(
    "console_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("officer", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.Integer),
    sa.Column("detail", sa.Text),
    sa.Column("at", sa.DateTime, nullable=False),
)

OPEN = ("queued", "held")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create_schema(self) -> None:
        await create_tables(self.engine, metadata)

    # -- accounts and sessions

    async def add_officer(self, username: str, display_name: str, role: str, password_hash: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(officers).where(officers.c.username == username))
            await conn.execute(sa.insert(officers).values(username=username, display_name=display_name, role=role,
                                                          password_hash=password_hash, failures=0))

    async def officer(self, username: str) -> sa.Row | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(officers).where(officers.c.username == username))).first()

    async def login_failed(self, username: str, limit: int, lock: timedelta) -> None:
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(officers.c.failures).where(officers.c.username == username))).first()
            if row is None:
                return
            failures = row.failures + 1
            values = {"failures": failures}
            if failures >= limit:
                values.update(failures=0, locked_until=utcnow() + lock)
            await conn.execute(sa.update(officers).where(officers.c.username == username).values(**values))

    async def login_succeeded(self, username: str, token: str, csrf: str, lifetime: timedelta) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(officers).where(officers.c.username == username)
                               .values(failures=0, locked_until=None))
            await conn.execute(sa.delete(sessions).where(sessions.c.expires_at < utcnow()))
            await conn.execute(sa.insert(sessions).values(token_hash=token_hash(token), username=username, csrf=csrf,
                                                          expires_at=utcnow() + lifetime))

    async def session(self, token: str) -> sa.Row | None:
        """The live session's officer (username, display_name, role) and its CSRF token."""
        query = (sa.select(officers.c.username, officers.c.display_name, officers.c.role, sessions.c.csrf)
                 .join(sessions, sessions.c.username == officers.c.username)
                 .where(sessions.c.token_hash == token_hash(token), sessions.c.expires_at > utcnow()))
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).first()

    async def end_session(self, token: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash(token)))

    # -- the queue

    async def enqueue(self, sender: str, reason: str, context: dict, recent: list[dict]) -> int:
        """A conversation handed to people; a sender already waiting keeps their place, with the new reason."""
        now = utcnow()
        async with self.engine.begin() as conn:
            current = await self._open_id(conn, sender)
            if current is not None:
                await conn.execute(sa.update(conversations).where(conversations.c.id == current)
                                   .values(reason=reason, context=context, updated_at=now))
                return current
            conversation = (await conn.execute(sa.insert(conversations).values(
                sender=sender, channel=channel_of(sender), reason=reason, context=context, status="queued",
                created_at=now, updated_at=now).returning(conversations.c.id))).scalar_one()
            for said in recent:
                await conn.execute(sa.insert(messages).values(
                    conversation_id=conversation, author="citizen" if said["from"] == "user" else "assistant",
                    text=said["text"], delivery="sent", at=now))
            return conversation

    async def backlog(self) -> dict[str, int]:
        """Conversations by status (queued, held, closed), for metrics."""
        return await count_by(self.engine, conversations.c.status)

    async def open_for(self, sender: str) -> sa.Row | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(conversations).where(
                conversations.c.sender == sender, conversations.c.status.in_(OPEN)))).first()

    async def _open_id(self, conn, sender: str) -> int | None:
        return await conn.scalar(sa.select(conversations.c.id).where(
            conversations.c.sender == sender, conversations.c.status.in_(OPEN)))

    async def queue(self, volunteer: str | None = None) -> list[sa.Row]:
        """Open conversations, oldest first; a volunteer sees only those given to them."""
        query = sa.select(conversations).where(conversations.c.status.in_(OPEN)).order_by(conversations.c.id)
        if volunteer is not None:
            query = query.where(conversations.c.assigned_to == volunteer)
        async with self.engine.connect() as conn:
            return list(await conn.execute(query))

    async def conversation(self, conversation_id: int) -> sa.Row | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id))).first()

    async def take(self, conversation_id: int, username: str) -> str | None:
        """Hold the conversation; None if it is now this officer's, else the username holding it (or "" if it
        is closed)."""
        async with self.engine.begin() as conn:
            taken = await conn.execute(sa.update(conversations).where(
                conversations.c.id == conversation_id,
                sa.or_(conversations.c.status == "queued", conversations.c.holder == username),
                conversations.c.status != "closed").values(status="held", holder=username, updated_at=utcnow(),
                                                           touched_at=utcnow(), reminded_at=None))
            if taken.rowcount == 1:
                return None
            row = (await conn.execute(sa.select(conversations.c.holder, conversations.c.status)
                                      .where(conversations.c.id == conversation_id))).first()
            return "" if row is None or row.status == "closed" else row.holder

    async def touch(self, conversation_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id)
                               .values(touched_at=utcnow(), reminded_at=None))

    async def idle(self, before) -> list[sa.Row]:
        """Held conversations whose holder has done nothing since `before` (naive UTC)."""
        async with self.engine.connect() as conn:
            return list(await conn.execute(sa.select(conversations).where(
                conversations.c.status == "held", conversations.c.touched_at < before)))

    async def claim_reminder(self, conversation_id: int) -> bool:
        """True for the one gateway that is to remind the idle holder (once until they act again)."""
        async with self.engine.begin() as conn:
            claimed = await conn.execute(sa.update(conversations).where(
                conversations.c.id == conversation_id, conversations.c.status == "held",
                conversations.c.reminded_at.is_(None)).values(reminded_at=utcnow()))
            return claimed.rowcount == 1

    async def requeue(self, conversation_id: int, holder: str) -> bool:
        """Back to the queue from `holder`; False when another gateway (or the holder) already moved it."""
        async with self.engine.begin() as conn:
            moved = await conn.execute(sa.update(conversations).where(
                conversations.c.id == conversation_id, conversations.c.status == "held",
                conversations.c.holder == holder).values(status="queued", holder=None, reminded_at=None,
                                                         updated_at=utcnow()))
            return moved.rowcount == 1

    async def search(self, words: str, volunteer: str | None = None) -> list[sa.Row]:
        """Conversations whose transcript or known name and phone contain `words` (a phone, a case code, a name),
        newest first."""
        like = f"%{words}%"
        in_messages = sa.select(messages.c.conversation_id).where(messages.c.text.ilike(like))
        query = (sa.select(conversations).where(sa.or_(
            conversations.c.id.in_(in_messages), sa.cast(conversations.c.context, sa.Text).ilike(like)))
            .order_by(conversations.c.id.desc()).limit(50))
        if volunteer is not None:
            query = query.where(conversations.c.assigned_to == volunteer)
        async with self.engine.connect() as conn:
            return list(await conn.execute(query))

    async def close(self, conversation_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id)
                               .values(status="closed", updated_at=utcnow()))

    async def assign(self, conversation_id: int, volunteer: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id)
                               .values(assigned_to=volunteer, updated_at=utcnow()))

    # -- transcripts

    async def add_message(self, conversation_id: int, author: str, text: str, image: str | None = None,
                          officer: str | None = None, delivery: str = "sent", audio: str | None = None) -> int:
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id)
                               .values(updated_at=utcnow()))
            return (await conn.execute(sa.insert(messages).values(
                conversation_id=conversation_id, author=author, officer=officer, text=text, image=image,
                audio=audio, delivery=delivery, at=utcnow()).returning(messages.c.id))).scalar_one()

    async def set_delivery(self, message_id: int, delivery: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(messages).where(messages.c.id == message_id).values(delivery=delivery))

    async def transcript(self, conversation_id: int) -> list[sa.Row]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(sa.select(messages).where(messages.c.conversation_id == conversation_id)
                                           .order_by(messages.c.id)))

    async def waiting_for(self, sender: str) -> list[sa.Row]:
        """Officers' messages not yet delivered to this sender (a web chat that was closed)."""
        query = (sa.select(messages).join(conversations, conversations.c.id == messages.c.conversation_id)
                 .where(conversations.c.sender == sender, messages.c.delivery == "waiting").order_by(messages.c.id))
        async with self.engine.connect() as conn:
            return list(await conn.execute(query))

    async def message(self, message_id: int) -> sa.Row | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(messages).where(messages.c.id == message_id))).first()

    async def with_audio(self, name: str) -> sa.Row | None:
        """The message a recording belongs to."""
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(messages).where(messages.c.audio == name))).first()

    async def forget(self, sender: str) -> list[str]:
        """Delete the sender's conversations; the names of their recordings, for the caller to delete."""
        async with self.engine.begin() as conn:
            ids = sa.select(conversations.c.id).where(conversations.c.sender == sender)
            recordings = [name for name in await conn.scalars(sa.select(messages.c.audio).where(
                messages.c.conversation_id.in_(ids), messages.c.audio.is_not(None)))]
            await conn.execute(sa.delete(messages).where(messages.c.conversation_id.in_(ids)))
            await conn.execute(sa.delete(conversations).where(conversations.c.sender == sender))
        return recordings

    # -- audit

    async def record(self, officer: str, action: str, conversation_id: int | None = None, detail: str = "") -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.insert(audit).values(officer=officer, action=action,
                                                       conversation_id=conversation_id, detail=detail, at=utcnow()))

    async def audit_log(self) -> list[sa.Row]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(sa.select(audit).order_by(audit.c.id)))
