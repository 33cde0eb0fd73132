"""The web chat: its page, the message API it calls, and photo uploads."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from aiohttp import web

import common.gateway

from .channel import MAX_PHOTO, PHOTO_TOO_LARGE, Incoming, keep_photo, receive
from .context import BAD_REQUEST, BAD_SENDER, BUSY, SETTINGS, Refused, error, form, json_object, json_response
from .rasa import RasaUnavailable

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_CHAT_BODY = 16 * 1024
_SENDER = re.compile(r"web-[A-Za-z0-9-]{8,64}")


def valid_sender(sender: str) -> bool:
    return bool(_SENDER.fullmatch(sender))


async def index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def chat(request: web.Request) -> web.Response:
    body = await json_object(request, MAX_CHAT_BODY)
    sender, text = body.get("sender"), body.get("text")
    if not isinstance(sender, str) or not valid_sender(sender):
        raise Refused(400, BAD_SENDER)
    if not isinstance(text, str):
        raise Refused(400, BAD_REQUEST)
    try:
        # Typed answers pick buttons the way spoken ones do ("1", "cái đầu", "dạ có").
        answer = await receive(request.app, Incoming(sender, text=text))
    except RasaUnavailable as failure:
        log.warning("rasa unavailable: %s", failure)
        return error(503, BUSY)
    return json_response({"messages": answer.messages})


async def upload(request: web.Request) -> web.Response:
    """Keep a citizen's photo and give back the address Open311 will carry as media_url."""
    fields = await form(request, MAX_PHOTO + 64 * 1024, PHOTO_TOO_LARGE)
    sender, photo = fields.get("sender"), fields.get("photo")
    if not isinstance(sender, str) or not valid_sender(sender):
        raise Refused(400, BAD_SENDER)
    if not isinstance(photo, web.FileField):
        raise Refused(400, "Dạ, cháu chưa nhận được ảnh.")
    return web.json_response({"url": keep_photo(request.app, sender, photo.file.read(MAX_PHOTO + 1))})


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_static(common.gateway.UPLOADS, app[SETTINGS].uploads)
    app.router.add_post("/api/chat", chat)
    app.router.add_post("/api/upload", upload)
