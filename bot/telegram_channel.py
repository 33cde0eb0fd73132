"""Telegram, through python-telegram-bot: long polling by default, or a webhook served by this gateway when
TELEGRAM_WEBHOOK_URL is set. Each chat is the sender `telegram:<chat id>`; answers leave through a Pacer that keeps
to Telegram's flood limits, one chat's messages in order."""
from __future__ import annotations

import asyncio
import datetime
import hmac
import logging
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from .channel import (
    FLOODED,
    MAX_PHOTO,
    PHOTO_TOO_LARGE,
    SHARE_PHONE,
    UNSUPPORTED,
    Answer,
    Inbox,
    Incoming,
    Pacer,
    Undelivered,
    asks_location,
    asks_phone,
    receive,
    register,
)
from .context import BUSY, SETTINGS, SPEAKER, TOO_LARGE, Refused, json_object
from .rasa import RasaUnavailable
from .settings import TelegramSettings

log = logging.getLogger(__name__)

TELEGRAM = web.AppKey("telegram", object)  # the running TelegramChannel
SEND_LOCATION = "📍 Gửi vị trí"
ALWAYS = ("Nói lại", "Gặp cán bộ")  # the keyboard when an answer offers no choices: a person is one tap away
MAX_VOICE_NOTE = 1024 * 1024  # larger OGG/Opus files show as a file, not a voice note
MAX_CALLBACK_DATA = 64
MAX_UPDATE = 64 * 1024
VOICE_ON = "Dạ, từ chừ cháu trả lời bác bằng cả giọng nói ạ. Bác gõ /giongnoi lần nữa để tắt ạ."
VOICE_OFF = "Dạ, cháu thôi đọc câu trả lời ạ. Bác gõ /giongnoi để bật lại ạ."
# Commands a citizen may send, and what each says to the assistant.
COMMANDS = {"/start": "/greet", "/help": "/help", "/nguoithat": "gặp cán bộ"}


def sender_of(chat_id: int) -> str:
    return f"telegram:{chat_id}"


def keyboard(message: dict, last: bool):
    """A message's buttons as Telegram shows them. The answer's last choices become large reply-keyboard buttons
    (their titles, tapped, pick them as typed text does), with a location or contact button when the message asks
    for one, or else a person and a repeat; choices on an earlier message belong to it: an inline keyboard."""
    buttons = message.get("buttons") or []
    if not last:
        return InlineKeyboardMarkup([[InlineKeyboardButton(b["title"], callback_data=_callback_data(b))]
                                     for b in buttons]) if buttons else None
    rows = [[KeyboardButton(b["title"])] for b in buttons]
    text = message.get("text") or ""
    if asks_location(text):
        rows.insert(0, [KeyboardButton(SEND_LOCATION, request_location=True)])
    if asks_phone(text):
        rows.insert(0, [KeyboardButton(SHARE_PHONE, request_contact=True)])
    rows = rows or [[KeyboardButton(title) for title in ALWAYS]]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=not buttons)


def _callback_data(button: dict) -> str:
    """The payload when Telegram can carry it (64 bytes); else the title, which picks the button as typed text."""
    payload = button["payload"]
    if len(payload.encode()) <= MAX_CALLBACK_DATA:
        return payload
    return button["title"].encode()[:MAX_CALLBACK_DATA].decode(errors="ignore")


class TelegramChannel:
    prefix = "telegram"

    def __init__(self, app: web.Application, settings: TelegramSettings):
        self.app, self.settings = app, settings
        builder = (Application.builder().token(settings.token).base_url(settings.api_base)
                   .base_file_url(settings.file_base))
        if settings.webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        # Not blocking: PTB would otherwise answer one chat at a time; the Inbox keeps each chat in order.
        self.application.add_handler(TypeHandler(Update, self.on_update, block=False))
        self.application.add_error_handler(self.on_error)
        self.pacer = Pacer(settings.per_chat_interval, settings.overall_per_second)
        self.inbox = Inbox()
        self.voice_on: set[str] = set()

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def start(self) -> None:
        await self.application.initialize()
        if self.settings.webhook_url:
            await self.bot.set_webhook(self.settings.webhook_url, secret_token=self.settings.webhook_secret,
                                       allowed_updates=["message", "callback_query"])
        else:
            await self.application.updater.start_polling(poll_interval=self.settings.poll_interval,
                                                          allowed_updates=["message", "callback_query"])
        await self.application.start()
        log.info("telegram: %s", "webhook" if self.settings.webhook_url else "long polling")

    async def keep_starting(self) -> None:
        """Start, retrying while Telegram cannot be reached: the other channels do not wait for it."""
        delay = 1.0
        while True:
            try:
                await self.start()
                return
            except (TelegramError, OSError) as failure:
                log.warning("telegram not started (%s); trying again in %.0f s", type(failure).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)

    async def stop(self) -> None:
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        sender = sender_of(chat.id)
        admitted = self.inbox.admit(sender)
        if admitted == "warn":
            log.info("telegram %s: flooding, slowed", sender)
            await self.send_text(chat.id, FLOODED)
        if admitted != "take":
            return
        await self.inbox.turn(sender, lambda: self.answer(update, sender))

    async def on_error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The exception's type only: its text may quote what the citizen sent.
        log.warning("telegram: an update failed: %s", type(context.error).__name__)
        log.debug("telegram: failure", exc_info=context.error)

    async def answer(self, update: Update, sender: str) -> None:
        chat_id = update.effective_chat.id
        try:
            incoming = await self.incoming(update, sender)
            if incoming is None:
                return
            answer = await receive(self.app, incoming)
        except Refused as refused:
            await self.send_text(chat_id, refused.message)
            return
        except RasaUnavailable as failure:
            log.warning("rasa unavailable: %s", failure)
            await self.send_text(chat_id, BUSY)
            return
        except TelegramError as failure:  # a file we could not fetch
            log.warning("telegram %s: %s", sender, failure)
            await self.send_text(chat_id, BUSY)
            return
        await self.deliver(str(chat_id), answer)

    async def incoming(self, update: Update, sender: str) -> Incoming | None:
        """The update as one Incoming; None when it was for the gateway alone (a setting)."""
        if update.callback_query is not None:
            await update.callback_query.answer()
            return Incoming(sender, text=update.callback_query.data or "")
        message = update.effective_message
        if message is None:
            raise Refused(400, UNSUPPORTED)
        if message.text is not None:
            return await self.typed(message, sender)
        if message.location is not None:
            return Incoming(sender, location=(message.location.latitude, message.location.longitude))
        if message.contact is not None:
            own = message.contact.user_id is not None and message.from_user is not None \
                and message.contact.user_id == message.from_user.id
            return Incoming(sender, contact=message.contact.phone_number,
                            vouched_phone=message.contact.phone_number if own else None)
        if message.photo:
            return Incoming(sender, photo=await self.download(message.photo[-1], MAX_PHOTO, PHOTO_TOO_LARGE))
        if message.document is not None and (message.document.mime_type or "").startswith("image/"):
            return Incoming(sender, photo=await self.download(message.document, MAX_PHOTO, PHOTO_TOO_LARGE))
        spoken = message.voice or message.audio
        if spoken is not None:
            limit = self.app[SETTINGS].voice.max_audio_bytes
            return Incoming(sender, voice=await self.download(spoken, limit, TOO_LARGE))
        raise Refused(415, UNSUPPORTED)  # stickers, other files, polls…

    async def typed(self, message: Message, sender: str) -> Incoming | None:
        text = message.text.strip()
        if not text.startswith("/"):
            return Incoming(sender, text=text)
        command = text.split()[0].split("@")[0].lower()
        if command == "/giongnoi":
            on = sender not in self.voice_on
            (self.voice_on.add if on else self.voice_on.discard)(sender)
            await self.send_text(message.chat_id, VOICE_ON if on else VOICE_OFF)
            return None
        # Other slash-texts would reach Rasa as intents with entities: only the commands we offer do.
        return Incoming(sender, payload=COMMANDS.get(command, "/help"))

    async def download(self, attachment, limit: int, too_large: str) -> bytes:
        if attachment.file_size is not None and attachment.file_size > limit:
            raise Refused(413, too_large)
        data = bytes(await (await attachment.get_file()).download_as_bytearray())
        if len(data) > limit:
            raise Refused(413, too_large)
        return data

    async def deliver(self, recipient: str, answer: Answer) -> None:
        chat_id = int(recipient)
        spoken = answer.spoken or sender_of(chat_id) in self.voice_on
        messages = [m for m in answer.messages if m.get("text") or m.get("image")]
        for index, message in enumerate(messages):
            markup = keyboard(message, last=index == len(messages) - 1)
            if message.get("image"):
                await self.call(chat_id, self.bot.send_photo, photo=message["image"],
                                caption=message.get("text") or None, reply_markup=markup)
            else:
                await self.call(chat_id, self.bot.send_message, text=message["text"], reply_markup=markup)
        texts = [m["text"] for m in messages if m.get("text")]
        if spoken and texts:
            speech = await self.app[SPEAKER].aspeak(" ".join(texts), "ogg")
            if len(speech.audio) <= MAX_VOICE_NOTE:
                await self.call(chat_id, self.bot.send_voice, voice=speech.audio)

    async def typing(self, recipient: str) -> None:
        """"… is typing" in the citizen's app for a few seconds (an officer is writing)."""
        try:
            await self.bot.send_chat_action(int(recipient), ChatAction.TYPING)
        except TelegramError as failure:
            log.info("telegram: no typing shown: %s", type(failure).__name__)

    async def send_text(self, chat_id: int, text: str) -> None:
        """A message of the gateway's own (a polite refusal, a setting), with the keyboard of a person and a repeat."""
        await self.call(chat_id, self.bot.send_message, text=text, reply_markup=keyboard({"text": text}, last=True))

    async def call(self, chat_id: int, method, **kwargs) -> None:
        """One Bot API call to a chat at the allowed pace; Telegram's own 'retry after' is obeyed once. Raises
        Undelivered: an officer or a notification is told, a conversation's answer is only logged (on_error)."""
        for attempt in (1, 2):
            try:
                await self.pacer.send(str(chat_id), lambda: method(chat_id=chat_id, **kwargs))
                return
            except RetryAfter as wait:
                if attempt == 2:
                    raise Undelivered("retry after") from None
                log.warning("telegram asks us to wait %s s", wait.retry_after)
                after = wait.retry_after
                await asyncio.sleep(after.total_seconds() if isinstance(after, datetime.timedelta) else after)
            except Forbidden:
                log.info("telegram chat %s blocked the assistant", chat_id)
                raise Undelivered("blocked") from None
            except TelegramError as failure:
                log.warning("telegram: a message to chat %s was not sent: %s", chat_id, type(failure).__name__)
                raise Undelivered(type(failure).__name__) from None

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST of one update, with the secret we gave it at set_webhook."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.settings.webhook_secret.encode()):
            log.warning("telegram webhook refused: wrong secret")
            raise web.HTTPForbidden(text="wrong secret")
        if not self.application.running:
            raise web.HTTPServiceUnavailable(text="starting")  # Telegram posts the update again later
        body = await json_object(request, MAX_UPDATE)
        try:
            update = Update.de_json(body, self.bot)
        except (KeyError, TypeError, ValueError):
            update = None
        if update is None:
            raise Refused(400, "not an update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")


def setup(app: web.Application) -> None:
    settings = app[SETTINGS].telegram
    if settings is None:
        return
    channel = TelegramChannel(app, settings)
    app[TELEGRAM] = channel
    register(app, channel)
    if settings.webhook_url:
        app.router.add_post(urlsplit(settings.webhook_url).path or "/telegram/webhook", channel.webhook)

    async def _run(app: web.Application):
        starting = asyncio.create_task(channel.keep_starting())
        yield
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await channel.stop()

    app.cleanup_ctx.append(_run)
