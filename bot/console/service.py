"""A person takes a conversation over: the queue the assistant hands conversations to, what a held conversation's
citizen says reaching the officer live, the officer's words reaching the citizen's own channel, and the
assistant coming back with the conversation's state intact.

While an officer holds a conversation, Rasa is paused (its HTTP API): the citizen's messages are still recorded
in the tracker, the assistant says nothing, and the officer's words are recorded there as bot events marked with
the officer's name. Handing back resumes Rasa with an `action_listen`, as a bare `resume` would fall back."""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from common.clock import utcnow
from voice.codecs import SAMPLE_RATE, encode

from ..bus import call_topic
from ..channel import CHANNELS, Answer, Undelivered, deliver
from ..context import BUS, MEMORY, RASA
from ..rasa import RasaUnavailable
from .live import Hub
from .store import ConsoleStore

log = logging.getLogger(__name__)

BACK = "Dạ, trợ lý đã quay lại với bác ạ. Bác cần cháu giúp chi nữa không ạ?"


class Console:
    def __init__(self, app: web.Application, store: ConsoleStore, recordings: Path):
        """`recordings`: where citizens' voice notes are kept for officers (as OGG/Opus)."""
        self.app, self.store, self.hub, self.recordings = app, store, Hub(app[BUS]), recordings

    # -- from the conversation (bot/context.converse)

    async def citizen_said(self, sender: str, said: str, voice=None) -> bool:
        """Note what a citizen in the queue said (and the recording, when spoken), live; True when an officer
        holds the conversation."""
        conversation = await self.store.open_for(sender)
        if conversation is None:
            return False
        text, image = readable(said)
        audio = await self.keep_recording(voice) if voice is not None else None
        text = f"🎤 {text}" if audio else text
        message = await self.store.add_message(conversation.id, "citizen", text, image, audio=audio)
        await self.hub.to_officers({"type": "message", "conversation": conversation.id, "id": message,
                              "author": "citizen", "text": text, "image": image, "audio": audio})
        return conversation.status == "held"

    async def keep_recording(self, pcm) -> str:
        name = f"{uuid.uuid4().hex}.ogg"
        audio = await asyncio.to_thread(encode, pcm, SAMPLE_RATE, "ogg")
        self.recordings.mkdir(parents=True, exist_ok=True)
        (self.recordings / name).write_bytes(audio)
        return name

    async def assistant_said(self, sender: str, replies: list[dict]) -> None:
        conversation = await self.store.open_for(sender)
        if conversation is None:
            return
        for reply in replies:
            if reply.get("text"):
                message = await self.store.add_message(conversation.id, "assistant", reply["text"])
                await self.hub.to_officers({"type": "message", "conversation": conversation.id, "id": message,
                                      "author": "assistant", "text": reply["text"]})

    async def handed_off(self, sender: str, handoff: dict) -> None:
        context = {"said": readable(str(handoff.get("said") or ""))[0], "form": handoff.get("form"),
                   "known": handoff.get("known") or {}}
        recent = [{**said, "text": readable(said["text"])[0]} for said in handoff.get("recent") or []]
        conversation = await self.store.enqueue(sender, str(handoff.get("reason") or "asked"), context, recent)
        await self.hub.to_officers({"type": "queue", "conversation": conversation})

    async def forget(self, sender: str) -> None:
        for name in await self.store.forget(sender):
            (self.recordings / name).unlink(missing_ok=True)

    # -- from officers

    async def take(self, conversation_id: int, officer) -> str | None:
        """None once the officer holds it; else who does ("" when it is closed)."""
        holder = await self.store.take(conversation_id, officer.username)
        if holder is not None:
            return holder
        conversation = await self.store.conversation(conversation_id)
        await self.app[RASA].append(conversation.sender, [{"event": "pause"}])
        await self.store.record(officer.username, "take", conversation_id)
        await self.hub.to_officers({"type": "queue", "conversation": conversation_id})
        return None

    async def reply(self, conversation_id: int, officer, text: str, choices: list[str]) -> dict:
        """The officer's words on the citizen's channel, in the tracker and the transcript."""
        conversation = await self.store.conversation(conversation_id)
        buttons = [{"title": choice, "payload": choice} for choice in choices]
        message = await self.store.add_message(conversation_id, "officer", text, officer=officer.name,
                                               delivery="waiting")
        await self.app[RASA].append(conversation.sender, [{"event": "bot", "text": text,
                                                           "data": {"buttons": buttons},
                                                           "metadata": {"officer": officer.name}}])
        await self.app[MEMORY].remember(conversation.sender, [{"text": text, "buttons": buttons}])
        delivery = await self.deliver(conversation.sender, message, text, buttons, officer.name)
        await self.store.touch(conversation_id)
        await self.store.record(officer.username, "reply", conversation_id)
        event = {"type": "message", "conversation": conversation_id, "id": message, "author": "officer",
                 "officer": officer.name, "text": text, "delivery": delivery}
        await self.hub.to_officers(event)
        return event

    async def typing(self, sender: str, officer: str) -> None:
        if sender.startswith("web-"):
            await self.hub.to_citizen(sender, {"typing": officer})
            return
        prefix, _, recipient = sender.partition(":")
        channel = self.app.get(CHANNELS, {}).get(prefix)
        if channel is not None:
            await channel.typing(recipient)

    async def retry(self, message_id: int, officer) -> dict:
        message = await self.store.message(message_id)
        conversation = await self.store.conversation(message.conversation_id)
        delivery = await self.deliver(conversation.sender, message.id, message.text, [], message.officer)
        await self.store.record(officer.username, "retry", conversation.id, str(message_id))
        event = {"type": "delivery", "conversation": conversation.id, "id": message.id, "delivery": delivery}
        await self.hub.to_officers(event)
        return event

    async def hand_back(self, conversation_id: int, officer) -> None:
        conversation = await self.store.conversation(conversation_id)
        await self.app[RASA].append(conversation.sender, [{"event": "resume"},
                                                          {"event": "action", "name": "action_listen"}])
        await self.store.close(conversation_id)
        message = await self.store.add_message(conversation_id, "assistant", BACK, delivery="waiting")
        await self.deliver(conversation.sender, message, BACK, [], None)
        await self.store.record(officer.username, "hand_back", conversation_id)
        await self.hub.to_officers({"type": "queue", "conversation": conversation_id})

    async def check_idle(self, remind_after: timedelta, give_back_after: timedelta) -> None:
        """A holder silent for `remind_after` is reminded (once); after `give_back_after` the conversation goes
        back to the queue, the assistant answering meanwhile."""
        now = utcnow()
        for row in await self.store.idle(now - remind_after):
            if row.touched_at < now - give_back_after:
                try:
                    await self.app[RASA].append(row.sender, [{"event": "resume"},
                                                             {"event": "action", "name": "action_listen"}])
                except RasaUnavailable:
                    continue  # still paused: it stays held until Rasa can be resumed
                if await self.store.requeue(row.id, row.holder):
                    await self.store.record(row.holder, "idle_requeued", row.id)
                    await self.hub.to_officers({"type": "queue", "conversation": row.id})
            elif await self.store.claim_reminder(row.id):
                await self.hub.to_officers({"type": "idle", "conversation": row.id, "holder": row.holder})

    async def watch_idle(self, remind_after: timedelta, give_back_after: timedelta, every: float = 30.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.check_idle(remind_after, give_back_after)
            except Exception:  # the watcher must outlive a database hiccup
                log.exception("console: idle check failed")

    async def deliver(self, sender: str, message_id: int, text: str, buttons: list[dict], officer: str | None) -> str:
        """On the citizen's channel: "sent", "waiting" (their web chat is closed: shown when it opens again) or
        "failed" (shown to the officer with a retry)."""
        try:
            if sender.startswith("web-"):
                live = await self.hub.to_citizen(sender, {"id": message_id, "text": text, "buttons": buttons,
                                                    "officer": officer})
                delivery = "sent" if live else "waiting"
            elif sender.startswith("call-"):
                # Spoken by the gateway that holds the call (bot/hotline.py); none does once they hung up.
                on_call = await self.app[BUS].publish(call_topic(sender), {"say": text})
                delivery = "sent" if on_call else "failed"
            else:  # a chat app: who writes is said in the text, as the web chat shows it
                signed = f"👤 Cán bộ {officer}:\n{text}" if officer else text
                await deliver(self.app, sender, Answer([{"text": signed, "buttons": buttons}]))
                delivery = "sent"
        except (RasaUnavailable, Undelivered, OSError, KeyError, RuntimeError) as failure:
            log.warning("console: a reply to %s was not delivered: %s", sender, type(failure).__name__)
            delivery = "failed"
        await self.store.set_delivery(message_id, delivery)
        return delivery

    async def waiting_for(self, sender: str) -> list[dict]:
        """Officers' words a web chat missed while closed; marked sent as they are handed to it."""
        waiting = []
        for message in await self.store.waiting_for(sender):
            waiting.append({"id": message.id, "text": message.text, "buttons": [], "officer": message.officer})
            await self.store.set_delivery(message.id, "sent")
        return waiting


# A tapped button reaches Rasa as its payload; officers read what the button said.
PAYLOADS = {"/greet": "(mở trò chuyện)", "/help": "Trợ giúp", "/ask_human": "Gặp cán bộ", "/affirm": "Có",
            "/deny": "Không", "/stop": "Thôi", "/repeat": "Nói lại", "/report_issue": "Phản ánh sự việc",
            "/check_status": "Xem phản ánh đã gửi", "/book_clinic": "Đặt lịch khám bệnh",
            "/cancel_appointment": "Hủy lịch khám", "/forget_me": "Xóa thông tin của tui"}


def readable(said: str) -> tuple[str, str | None]:
    """What the citizen sent, as an officer reads it: a button's words, a shared photo or place, not payloads."""
    if said in PAYLOADS:
        return PAYLOADS[said], None
    if not said.startswith("/inform{"):
        return said, None
    try:
        slots = json.loads(said[len("/inform"):])
    except ValueError:
        return said, None
    if "photo_url" in slots:
        return "📷 Ảnh", str(slots["photo_url"])
    if "lat" in slots:
        return f"📍 Vị trí: {slots.get('lat')}, {slots.get('long')}", None
    if "phone" in slots:
        return f"📞 {slots['phone']}", None
    return said, None
