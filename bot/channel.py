"""One conversation, many channels: what a channel receives from a citizen (text, a button, a location, a photo, a
voice note, a contact) becomes one turn with Rasa here, so each channel only translates its own wire format.

Senders are prefixed by channel ("web-…", "call-…", "telegram:42", "zalo:…"): Rasa conversations, Open311
`account_id` and "phản ánh của tui" stay apart per channel.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from common.text import normalize_phone
from common.wording import masked_phone
from voice.asr import transcribe
from voice.codecs import SAMPLE_RATE, AudioProblem, decode

from . import metrics
from .context import IDENTITIES, LIMIT, MEMORY, RECOGNIZER, SETTINGS, UNHEARD, UPLOADS, Refused, converse, told_first
from .rasa import RasaUnavailable

log = logging.getLogger(__name__)

MAX_TEXT = 4000
MAX_PHOTO = 8 * 1024 * 1024
PHOTO_TOO_LARGE = "Dạ, ảnh lớn quá ạ. Bác chọn ảnh nhỏ hơn 8 MB giúp cháu."
NOT_A_PHOTO = "Dạ, tệp ni không phải ảnh. Bác chọn ảnh chụp giúp cháu."
EMPTY = "Dạ, tin nhắn trống hoặc dài quá ạ."
UNSUPPORTED = ("Dạ, cháu chỉ đọc được chữ, ảnh chụp, tin nhắn thoại và vị trí thôi ạ. "
               "Bác nhắn chữ hoặc gửi tin nhắn thoại giúp cháu.")
LINKED = ("Dạ, cháu đã ghi nhận số {phone} là của bác. Từ chừ, phản ánh và lịch khám bác gửi từ số ni qua tổng "
          "đài hay kênh khác, bác xem được ở đây, và có tin chi cháu báo bác qua đây ạ. Muốn bỏ liên kết, bác nhắn "
          "“bỏ liên kết” ạ.")
NOT_A_PHONE = "Dạ, số điện thoại ni cháu chưa đọc được ạ. Bác nhắn số giúp cháu."
FLOODED = "Dạ, bác gửi nhanh quá, cháu trả lời không kịp. Bác chờ cháu trả lời xong rồi nhắn tiếp giúp cháu nghe."
# Asks whose answer a chat app can give with one tap: the asks name the web chat's button, or ask for a phone.
ASKS_LOCATION = "📍 Gửi vị trí"
_ASKS_PHONE = ("xin số điện thoại",)  # a form waits for the number
SHARE_PHONE = "📞 Gửi số điện thoại"  # named where the assistant asks a chat app to share it, to link the channel
_IMAGE_TYPES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


@dataclass(frozen=True)
class Incoming:
    """One thing a citizen sent; exactly one of its contents is set."""

    sender: str
    text: str | None = None  # typed; a button's title is typed text too (it picks the button)
    payload: str | None = None  # a button tapped where the app tells us which one
    location: tuple[float, float] | None = None
    photo: bytes | None = None
    voice: bytes | None = None
    contact: str | None = None  # a shared phone number
    # A number the channel itself vouches is the sender's (a signed call's caller, a Telegram contact of the
    # sender's own): it links the sender to the citizen's other accounts (bot/identity.py). Typed numbers never do.
    vouched_phone: str | None = None
    metadata: dict | None = None  # for the actions: a call's caller number


@dataclass
class Answer:
    messages: list[dict]  # {"text", "buttons", "image"?, "speech"}
    heard: str | None = None  # what a voice note was recognised as
    spoken: bool = False  # the citizen spoke: answer in voice too


class Channel(Protocol):
    """A chat app the assistant can write to at any time (the web chat and the hotline answer within a request or
    a call). Registered in app[CHANNELS] under its sender prefix, so an answer reaches any sender."""

    prefix: str  # "telegram" for the sender "telegram:42"

    async def deliver(self, recipient: str, answer: Answer) -> None:
        """The answer in the app's own form; in voice too when `answer.spoken`."""

    async def typing(self, recipient: str) -> None:
        """Show that a person is writing, where the app can; never fails."""


CHANNELS = web.AppKey("channels", dict)  # prefix -> Channel


def channel_of(sender: str) -> str:
    """"telegram:42" -> "telegram", "web-…" -> "web", "call-…" -> "phone"."""
    if sender.startswith("web-"):
        return "web"
    if sender.startswith("call-"):
        return "phone"
    return sender.split(":", 1)[0]


class Undelivered(Exception):
    """A chat app did not take a message (it is down, the citizen blocked the assistant…)."""


def register(app: web.Application, channel: Channel) -> None:
    app.setdefault(CHANNELS, {})[channel.prefix] = channel


async def deliver(app: web.Application, sender: str, answer: Answer) -> None:
    """An answer to a sender of any registered channel ("telegram:42")."""
    prefix, _, recipient = sender.partition(":")
    await app[CHANNELS][prefix].deliver(recipient, answer)


def image_extension(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in _IMAGE_TYPES if head.startswith(magic)), None)


def keep_photo(app: web.Application, sender: str, data: bytes) -> str:
    """Store a citizen's photo; the address Open311 will carry as media_url. Refused if it is no photo."""
    if len(data) > MAX_PHOTO:
        raise Refused(413, PHOTO_TOO_LARGE)
    extension = image_extension(data[:12])
    if extension is None:
        raise Refused(415, NOT_A_PHOTO)
    return app[UPLOADS].keep(sender, data, extension)


@dataclass(frozen=True)
class Heard:
    text: str  # as recognised (and repaired, voice.asr.heard), shown to the citizen
    pcm: object  # the recording as 16 kHz mono PCM (numpy int16), for an officer to listen to
    said: str  # what goes to the assistant: the text, or the button it sounds like (LastReplies.understood)


async def hear(app: web.Application, audio: bytes, sender: str) -> Heard:
    """A voice recording in any format phones make, recognised with the sender's last buttons as the answers
    expected; Refused politely if it cannot be."""
    voice = app[SETTINGS].voice
    try:
        pcm = await asyncio.to_thread(decode, audio, SAMPLE_RATE, voice.max_audio_seconds, voice.max_audio_bytes)
    except AudioProblem as problem:
        log.info("voice message refused: %s", problem)
        raise Refused(422, problem.message, reason=problem.reason) from None
    last = await app[MEMORY].last(sender)
    transcript = await transcribe(pcm, SAMPLE_RATE, app[RECOGNIZER], tuple(last.titles()))
    heard = transcript.text.strip()
    if not heard:
        raise Refused(422, UNHEARD, reason="unheard")
    return Heard(heard, pcm, last.understood(heard, transcript.alternatives))


def _inform(**entities) -> str:
    """A message that fills slots directly, as the web chat's location and photo buttons send."""
    return "/inform" + json.dumps(entities, ensure_ascii=False)


async def message_for(app: web.Application, incoming: Incoming) -> tuple[str, Heard | None]:
    """What goes to Rasa for this incoming thing, and what was heard if it was spoken."""
    if incoming.payload is not None:
        return incoming.payload, None
    if incoming.location is not None:
        lat, long = incoming.location
        return _inform(lat=f"{lat:.6f}", long=f"{long:.6f}"), None
    if incoming.photo is not None:
        return _inform(photo_url=keep_photo(app, incoming.sender, incoming.photo)), None
    if incoming.voice is not None:
        heard = await hear(app, incoming.voice, incoming.sender)
        return heard.said, heard
    if incoming.contact is not None:
        phone = normalize_phone(incoming.contact)
        if phone is None:
            raise Refused(422, NOT_A_PHONE)
        return _inform(phone=phone), None
    text = (incoming.text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise Refused(400, EMPTY)
    return text, None


async def receive(app: web.Application, incoming: Incoming) -> Answer:
    """One turn for any channel. Raises Refused (with a polite answer) and RasaUnavailable."""
    async with metrics.turn(channel_of(incoming.sender)) as outcome:
        try:
            return await _receive(app, incoming)
        except Refused as refused:
            outcome["value"] = refused.extra.get("reason", "refused")
            raise
        except RasaUnavailable:
            outcome["value"] = "rasa_unavailable"
            raise


async def _receive(app: web.Application, incoming: Incoming) -> Answer:
    if not await app[LIMIT].allow(incoming.sender):  # before any work: a flood costs a counter, not a turn
        raise Refused(429, FLOODED, reason="rate_limited")
    message, heard = await message_for(app, incoming)
    linked = await link(app, incoming)
    if linked is not None and incoming.contact is not None and not await _asked_phone(app, incoming.sender):
        # A contact shared to link the channel, not to answer the assistant: nothing for Rasa.
        accounts = await app[IDENTITIES].accounts(incoming.sender)
        return Answer(await app[MEMORY].remember(incoming.sender, [*await told_first(app, accounts), linked]))
    messages = await converse(app, incoming.sender, message, incoming.metadata, heard.pcm if heard else None)
    if linked is not None and incoming.contact is not None:
        messages.insert(0, linked)
    return Answer(messages, heard.text if heard else None, spoken=heard is not None)


async def link(app: web.Application, incoming: Incoming) -> dict | None:
    """Link the sender to the citizen whose number the channel vouches for; what to tell them, if anything."""
    phone = normalize_phone(incoming.vouched_phone or "")
    if phone is None:
        return None
    await app[IDENTITIES].link(incoming.sender, phone, channel_of(incoming.sender))
    return {"text": LINKED.format(phone=masked_phone(phone)), "buttons": []}


async def _asked_phone(app: web.Application, sender: str) -> bool:
    """Whether the assistant's last words asked this sender for a phone number (a form is waiting for it)."""
    return any(_form_asks_phone(text) for text in (await app[MEMORY].last(sender)).texts())


def asks_location(text: str) -> bool:
    return ASKS_LOCATION in text


def asks_phone(text: str) -> bool:
    """The message asks for a phone number: a chat app offers its button that shares the citizen's own."""
    return SHARE_PHONE in text or _form_asks_phone(text)


def _form_asks_phone(text: str) -> bool:
    folded = text.lower()
    return any(ask in folded for ask in _ASKS_PHONE)


class Pacer:
    """Sends to chat apps at the pace they allow: at most one message per `per_chat` seconds to a chat, in order,
    and `overall` messages a second in all. Telegram allows about 1/s per chat and 30/s overall."""

    def __init__(self, per_chat: float = 1.0, overall: int = 30, clock=time.monotonic):
        self.per_chat, self.overall, self.clock = per_chat, overall, clock
        self._chats: OrderedDict[str, tuple[asyncio.Lock, list[float]]] = OrderedDict()
        self._sent: list[float] = []  # send times within the last second, overall
        self._overall = asyncio.Lock()

    async def send(self, chat: str, send):
        """Await `send()` when this chat's and the overall pace allow it; its result."""
        lock, last = self._chat(chat)
        async with lock:
            wait = last[0] + self.per_chat - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._overall_turn()
            try:
                return await send()
            finally:
                last[0] = self.clock()

    async def _overall_turn(self) -> None:
        async with self._overall:
            while True:
                now = self.clock()
                self._sent = [t for t in self._sent if now - t < 1.0]
                if len(self._sent) < self.overall:
                    self._sent.append(now)
                    return
                await asyncio.sleep(1.0 - (now - self._sent[0]))

    def _chat(self, chat: str):
        entry = self._chats.get(chat)
        if entry is None:
            entry = self._chats[chat] = (asyncio.Lock(), [float("-inf")])
            while len(self._chats) > 10000 and not next(iter(self._chats.values()))[0].locked():
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat)
        return entry


class Inbox:
    """Each chat's messages answered one at a time, in order; a citizen who sends more than `burst` messages while
    earlier ones wait is told once, politely, and the extra messages are dropped until the queue drains."""

    def __init__(self, burst: int = 5):
        self.burst = burst
        self._waiting: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._warned: set[str] = set()

    def admit(self, chat: str) -> str:
        """'take' the message, 'warn' (drop it and say FLOODED once) or 'drop' it."""
        if self._waiting.get(chat, 0) < self.burst:
            self._waiting[chat] = self._waiting.get(chat, 0) + 1
            return "take"
        if chat in self._warned:
            return "drop"
        self._warned.add(chat)
        return "warn"

    async def turn(self, chat: str, work) -> None:
        """Run an admitted message's `work()` after the chat's earlier ones."""
        lock = self._locks.setdefault(chat, asyncio.Lock())
        try:
            async with lock:
                await work()
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat]
                self._warned.discard(chat)
                if not lock.locked():
                    self._locks.pop(chat, None)
