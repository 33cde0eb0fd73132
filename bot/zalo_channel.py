"""Zalo Official Account: the webhook Zalo posts citizens' messages to, and the replies sent back through the OA API.

Each event is checked (signature, age, not seen before), answered 200 at once — Zalo retries a slow webhook and at
last disables it — and carried out in the background, each citizen's in order. Replies go out within the citizen's
reply window (a few free replies for 48 h after each of their messages); one that falls outside it waits for their
next message rather than being lost.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging

import aiohttp
from aiohttp import web

from common import clock

from .channel import FLOODED, MAX_PHOTO, PHOTO_TOO_LARGE, UNSUPPORTED, Answer, Inbox, Incoming, receive, register
from .context import BUSY, DATABASE, SETTINGS, SPEAKER, TOO_LARGE, Refused, raw_body
from .rasa import RasaUnavailable
from .settings import ZaloSettings
from .zalo_api import ZaloClient, ZaloError
from .zalo_store import TokenStore, ZaloState, create_schema

log = logging.getLogger(__name__)

ZALO = web.AppKey("zalo", object)  # the running ZaloChannel
MAX_EVENT = 64 * 1024
MAX_BUTTONS = 5  # Zalo shows at most five buttons under a message…
MAX_TITLE = 40  # …with short titles; longer lists are numbered text that "1", "2"… answer
PICK_BY_NUMBER = "Bác nhắn số để chọn ạ (ví dụ: 1)."
TEXT_EVENTS = ("user_send_text", "user_click_button")
FOLLOW, UNFOLLOW = "follow", "unfollow"


def signature_ok(settings: ZaloSettings, raw: bytes, timestamp: str, header: str) -> bool:
    """Zalo's X-ZEvent-Signature: 'mac=' + SHA-256 hex of app id + raw body + the body's timestamp + OA secret key
    (a plain hash, not an HMAC)."""
    expected = hashlib.sha256(settings.app_id.encode() + raw + timestamp.encode() + settings.oa_secret.encode())
    given = header.removeprefix("mac=").strip().lower()
    return hmac.compare_digest(expected.hexdigest().encode(), given.encode())


def location_of(payload: dict) -> tuple[float, float] | None:
    """A shared location in either shape Zalo sends: latitude/longitude strings or lat/long numbers."""
    place = payload.get("coordinates") or payload
    lat, long = place.get("latitude", place.get("lat")), place.get("longitude", place.get("long"))
    try:
        return float(lat), float(long)
    except (TypeError, ValueError):
        return None


def zalo_messages(message: dict) -> list[dict]:
    """One of the assistant's replies as Zalo messages: text with up to five buttons, or numbered choices."""
    text, buttons = message.get("text") or "", message.get("buttons") or []
    out = []
    if buttons and len(buttons) <= MAX_BUTTONS and all(len(b["title"]) <= MAX_TITLE for b in buttons):
        # The button sends its title as the citizen's message; the title picks the button (bot/replies.py).
        out.append({"text": text, "attachment": {"type": "template", "payload": {"buttons": [
            {"title": b["title"], "type": "oa.query.show", "payload": b["title"]} for b in buttons]}}})
    elif buttons:
        listed = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, 1))
        out.append({"text": f"{text}\n{listed}\n{PICK_BY_NUMBER}".strip()})
    elif text:
        out.append({"text": text})
    if message.get("image"):
        out.append({"attachment": {"type": "template", "payload": {
            "template_type": "media", "elements": [{"media_type": "image", "url": message["image"]}]}}})
    return out


class ZaloChannel:
    prefix = "zalo"

    def __init__(self, app: web.Application, settings: ZaloSettings):
        self.app, self.settings = app, settings
        self.client = ZaloClient(settings, TokenStore(app[DATABASE], settings))
        self.state = ZaloState(app[DATABASE], settings)
        self.inbox = Inbox()
        self.tasks: set[asyncio.Task] = set()

    async def webhook(self, request: web.Request) -> web.Response:
        raw = await raw_body(request, MAX_EVENT)
        try:
            event = json.loads(raw)
            timestamp = str(event["timestamp"])
            sent_at = int(timestamp) / 1000
        except (ValueError, TypeError, KeyError):
            raise web.HTTPBadRequest(text="not a Zalo event") from None
        if not signature_ok(self.settings, raw, timestamp, request.headers.get("X-ZEvent-Signature", "")):
            log.warning("zalo event refused: bad signature")
            raise web.HTTPForbidden(text="invalid signature")
        if str(event.get("app_id", self.settings.app_id)) != self.settings.app_id:
            raise web.HTTPForbidden(text="another app's event")
        if abs(clock.now().timestamp() - sent_at) > self.settings.max_event_age:
            log.warning("zalo event refused: too old or from the future")
            raise web.HTTPForbidden(text="stale event")
        user_id = _user_of(event)
        message = event.get("message") or {}
        key = str(message.get("msg_id") or f"{event.get('event_name')}:{user_id}:{timestamp}")
        if not user_id or not await self.state.first_time(key):
            return web.json_response({"status": "ignored"})  # a retry of an event already taken: 200, once
        sender = f"zalo:{user_id}"
        admitted = self.inbox.admit(sender)
        if admitted == "warn":
            self.spawn(self.say(user_id, [{"text": FLOODED}]))
        elif admitted == "take":
            self.spawn(self.inbox.turn(sender, lambda: self.handle(event, user_id)))
        return web.json_response({"status": "ok"})

    def spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def handle(self, event: dict, user_id: str) -> None:
        name, message = event.get("event_name", ""), event.get("message") or {}
        if name == UNFOLLOW:
            return
        await self.state.heard_from(user_id, message.get("msg_id"))
        waiting = await self.state.take_waiting(user_id)
        if waiting:
            await self.send(user_id, waiting)
        sender = f"zalo:{user_id}"
        try:
            incoming = await self.incoming(name, message, sender)
            answer = await receive(self.app, incoming)
        except Refused as refused:
            await self.say(user_id, [{"text": refused.message}])
            return
        except RasaUnavailable as failure:
            log.warning("rasa unavailable: %s", failure)
            await self.say(user_id, [{"text": BUSY}])
            return
        await self.deliver(user_id, answer)

    async def incoming(self, name: str, message: dict, sender: str) -> Incoming:
        if name == FOLLOW:
            return Incoming(sender, payload="/greet")
        if name in TEXT_EVENTS:
            return Incoming(sender, text=str(message.get("text") or ""))
        attachments = message.get("attachments") or [{}]
        payload = attachments[0].get("payload") or {}
        if name == "user_send_location":
            place = location_of(payload)
            if place is None:
                raise Refused(400, UNSUPPORTED)
            return Incoming(sender, location=place)
        if name == "user_send_image":
            return Incoming(sender, photo=await self.fetch(payload.get("url"), MAX_PHOTO, PHOTO_TOO_LARGE))
        if name in ("user_send_audio", "user_send_voice"):
            limit = self.app[SETTINGS].voice.max_audio_bytes
            return Incoming(sender, voice=await self.fetch(payload.get("url"), limit, TOO_LARGE))
        if name == "user_send_file" and str(payload.get("type", "")).lower() in ("jpg", "jpeg", "png", "webp"):
            return Incoming(sender, photo=await self.fetch(payload.get("url"), MAX_PHOTO, PHOTO_TOO_LARGE))
        raise Refused(415, UNSUPPORTED)  # stickers, gifs, other files…

    async def fetch(self, url, limit: int, too_large: str) -> bytes:
        try:
            return await self.client.download(str(url or ""), limit)
        except OverflowError:
            raise Refused(413, too_large) from None
        except (ValueError, aiohttp.ClientError, TimeoutError) as failure:
            log.warning("zalo attachment not fetched: %s", failure)
            raise Refused(502, BUSY) from None

    async def deliver(self, recipient: str, answer: Answer) -> None:
        await self.say(recipient, answer.messages)
        if answer.spoken:
            await self.speak(recipient, [m["text"] for m in answer.messages if m.get("text")])

    async def typing(self, recipient: str) -> None:
        """Zalo's OA API has no typing indicator: nothing to show."""

    async def say(self, user_id: str, replies: list[dict]) -> None:
        await self.send(user_id, [m for reply in replies for m in zalo_messages(reply)])

    async def speak(self, user_id: str, texts: list[str]) -> None:
        """The answer as an audio file too, for a citizen who spoke: uploaded, then sent by its token."""
        if not texts:
            return
        speech = await self.app[SPEAKER].aspeak(" ".join(texts), "mp3")
        try:
            uploaded = await self.client.upload("file", speech.audio, "tra-loi.mp3", "audio/mpeg")
        except (ZaloError, aiohttp.ClientError, TimeoutError) as failure:
            log.warning("zalo: spoken answer not uploaded: %s", failure)
            return
        await self.send(user_id, [{"attachment": {"type": "file", "payload": {"token": uploaded.get("token")}}}])

    async def send(self, user_id: str, messages: list[dict]) -> None:
        """In order; what cannot go now (outside the window, Zalo down) waits for the citizen's next message."""
        for index, message in enumerate(messages):
            recipient = await self.state.reply_to(user_id)
            if recipient is None:
                log.info("zalo: outside the reply window, %d message(s) wait", len(messages) - index)
                for later in messages[index:]:
                    await self.state.wait(user_id, later)
                return
            try:
                await self.client.send(recipient, message)
            except (ZaloError, aiohttp.ClientError, TimeoutError) as failure:
                log.warning("zalo: reply not sent (%s); it waits for the citizen's next message", failure)
                for later in messages[index:]:
                    await self.state.wait(user_id, later)
                return

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.close()


def _user_of(event: dict) -> str:
    if event.get("event_name") in (FOLLOW, UNFOLLOW):
        return str((event.get("follower") or {}).get("id") or "")
    return str((event.get("sender") or {}).get("id") or "")


def setup(app: web.Application) -> None:
    settings = app[SETTINGS].zalo
    if settings is None:
        return
    channel = ZaloChannel(app, settings)
    app[ZALO] = channel
    register(app, channel)
    app.router.add_post("/zalo/webhook", channel.webhook)

    async def _schema(app: web.Application) -> None:
        await create_schema(app[DATABASE])

    async def _close(app: web.Application) -> None:
        await channel.close()

    app.on_startup.append(_schema)
    app.on_cleanup.append(_close)
