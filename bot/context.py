"""What every channel of the gateway shares: its settings, Rasa, the reply memory, speech in and out, and how a
request body is read and refused. A neutral home, so that no channel imports another and set-up order is free."""
from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from common.database import create_engine
from voice.tts import Speaker, fixed_answers

from .bus import LocalBus, RedisBus
from .limits import RateLimit
from .rasa import RasaClient
from .replies import ReplyMemory
from .settings import Settings
from .uploads import Uploads

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", AsyncEngine)  # the gateway's own tables, shared by its replicas
RASA = web.AppKey("rasa", RasaClient)
MEMORY = web.AppKey("memory", ReplyMemory)
SPEAKER = web.AppKey("speaker", Speaker)
RECOGNIZER = web.AppKey("recognizer", object)  # voice.asr's recogniser, loaded once at start
UPLOADS = web.AppKey("uploads", Uploads)
CONSOLE = web.AppKey("console", object)  # bot/console: conversations handed to people
IDENTITIES = web.AppKey("identities", object)  # bot/identity.py: one citizen's accounts across channels
NOTIFIER = web.AppKey("notifier", object)  # bot/notify: set when the city's events feed can be read
BUS = web.AppKey("bus", LocalBus)  # bot/bus.py: officers' consoles, open web chats and calls, on any gateway
LIMIT = web.AppKey("limit", RateLimit)  # bot/limits.py: each sender's messages per minute, on all gateways

BUSY = "Dạ, cháu đang bận một chút. Bác thử lại sau ít phút giúp cháu nghe."
BAD_SENDER = "Dạ, phiên trò chuyện không hợp lệ. Bác tải lại trang giúp cháu."
BAD_REQUEST = "Dạ, tin nhắn gửi lên chưa đúng định dạng."
TOO_LARGE = "Dạ, nội dung gửi lên lớn quá ạ."
UNHEARD = "Dạ, cháu chưa nghe rõ. Bác nói lại chậm hơn một chút giúp cháu nghe."


class Refused(Exception):
    """A request the gateway will not take: answered with `status` and a polite Vietnamese message."""

    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra

    def response(self) -> web.Response:
        return error(self.status, self.message, **self.extra)


async def converse(app: web.Application, sender: str, said: str, metadata: dict | None = None,
                   voice=None) -> list[dict]:
    """One turn on any channel: what the citizen typed or said (picking a button if it means one) goes to Rasa;
    the answers come back for the citizen, remembered for the next turn, after anything that waited to be told.
    Messages addressed to the gateway are carried out here. `voice`: the recording (16 kHz PCM) `said` was heard
    in, for an officer. Raises RasaUnavailable."""
    memory, console, identities = app[MEMORY], app[CONSOLE], app[IDENTITIES]
    profile = await identities.profile(sender)
    if profile is not None:  # the actions list what the citizen filed or booked on any linked channel
        metadata = {**(metadata or {}), "identity": profile}
    accounts = profile["accounts"] if profile else [sender]
    held = await console.citizen_said(sender, said, voice)  # an officer holds it: Rasa is paused and records it
    # An officer reads the words as said; the assistant gets a button's payload when they pick one.
    if not held:
        said = (await memory.last(sender)).answer(said)
    replies = await app[RASA].send(sender, said, metadata)
    if profile is not None:
        await identities.seen(sender)
    for reply in replies:
        custom = reply.get("custom") or {}
        if custom.get("forget") is not None:  # actions/privacy.py: the citizen asked to be forgotten
            app[UPLOADS].forget(sender, custom["forget"].get("keep_photos") or [])
            await memory.forget(sender)
            await console.forget(sender)
            await identities.unlink(sender)
        if custom.get("handoff") is not None:  # actions/conversation.py: to a person
            await console.handed_off(sender, custom["handoff"])
        if custom.get("unlink") is not None:  # actions/links.py: "bỏ liên kết"
            await identities.unlink(sender)
        if custom.get("notify_via") is not None:  # actions/links.py: "báo cho tui qua Zalo"
            await identities.choose(sender, str(custom["notify_via"]))
    visible = [r for r in replies if "custom" not in r]
    if not held:
        visible = await told_first(app, accounts) + visible
        await console.assistant_said(sender, visible)
    return await memory.remember(sender, visible)


async def told_first(app: web.Application, accounts: list[str]) -> list[dict]:
    """Notifications that waited for this citizen's next visit (bot/notify)."""
    notifier = app.get(NOTIFIER)
    return await notifier.waiting_for(accounts) if notifier is not None else []


def error(status: int, message: str, **extra) -> web.Response:
    return json_response({"error": message, **extra}, status=status)


def json_response(data, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _check_length(request: web.Request, limit: int, message: str) -> None:
    """A declared length over the limit is refused before anything is read."""
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, message, reason="too_large")


async def raw_body(request: web.Request, limit: int) -> bytes:
    """The body, of at most `limit` bytes, counted as it arrives (chunked too)."""
    _check_length(request, limit, TOO_LARGE)
    try:
        return await request.clone(client_max_size=limit).read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, TOO_LARGE, reason="too_large") from None


async def json_object(request: web.Request, limit: int) -> dict:
    """The body as a JSON object of at most `limit` bytes, checked before it is parsed."""
    raw = await raw_body(request, limit)
    try:
        body = json.loads(raw)
    except ValueError:
        raise Refused(400, BAD_REQUEST) from None
    if not isinstance(body, dict):
        raise Refused(400, BAD_REQUEST)
    return body


async def form(request: web.Request, limit: int, too_large: str = TOO_LARGE):
    """A multipart or urlencoded body of at most `limit` bytes, checked as it is read."""
    _check_length(request, limit, too_large)
    try:
        return await request.clone(client_max_size=limit).post()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, too_large, reason="too_large") from None
    except ValueError:
        raise Refused(400, BAD_REQUEST) from None


@web.middleware
async def refusals(request: web.Request, handler):
    """A Refused raised anywhere becomes its polite answer; so does the gateway's database failing (restarting)."""
    try:
        return await handler(request)
    except Refused as refused:
        return refused.response()
    except (sa.exc.SQLAlchemyError, OSError) as failure:  # asyncpg's connect raises OSError while it restarts
        log.warning("gateway database unavailable: %s", type(failure).__name__)
        return error(503, BUSY)


def setup(app: web.Application, settings: Settings) -> None:
    app[SETTINGS] = settings
    app[RASA] = RasaClient(settings.rasa_url, settings.rasa_timeout, settings.rasa_token, settings.rasa_in_flight)
    # Only the assistant's fixed answers may be spoken by Google (voice/tts.py): nothing personal leaves the machine.
    app[SPEAKER] = Speaker(settings.voice, public=[*fixed_answers(settings.domain), BUSY, UNHEARD, BAD_SENDER])
    app[UPLOADS] = Uploads(settings.uploads, settings.upload_owners, settings.public_url)
    app[DATABASE] = create_engine(settings.database)
    app[MEMORY] = ReplyMemory(app[DATABASE])
    shared = settings.redis_client()  # None on the embedded default: one gateway, its own memory
    app[BUS] = RedisBus(shared) if shared is not None else LocalBus()
    app[LIMIT] = RateLimit(settings.messages_per_minute, settings.redis_client())

    async def _schema(app: web.Application) -> None:
        await app[MEMORY].create_schema()

    async def _close(app: web.Application) -> None:
        await app[RASA].close()
        await app[DATABASE].dispose()
        await app[BUS].close()
        await app[LIMIT].close()

    app.on_startup.append(_schema)
    app.on_cleanup.append(_close)
