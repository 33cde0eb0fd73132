"""The web chat: its page, the message API it calls, and photo uploads."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from aiohttp import web

import common.gateway

from .context import BAD_SENDER, BUSY, SETTINGS, UPLOADS, Refused, converse, error, form, json_object, json_response
from .rasa import RasaUnavailable

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_TEXT = 4000
MAX_CHAT_BODY = 16 * 1024
MAX_PHOTO = 8 * 1024 * 1024
_SENDER = re.compile(r"web-[A-Za-z0-9-]{8,64}")
PHOTO_TOO_LARGE = "Dạ, ảnh lớn quá ạ. Bác chọn ảnh nhỏ hơn 8 MB giúp cháu."
_IMAGE_TYPES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


def valid_sender(sender: str) -> bool:
    return bool(_SENDER.fullmatch(sender))


async def index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def chat(request: web.Request) -> web.Response:
    body = await json_object(request, MAX_CHAT_BODY)
    sender, text = body.get("sender"), body.get("text")
    if not isinstance(sender, str) or not valid_sender(sender):
        raise Refused(400, BAD_SENDER)
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise Refused(400, "Dạ, tin nhắn trống hoặc dài quá ạ.")
    try:
        # Typed answers pick buttons the way spoken ones do ("1", "cái đầu", "dạ có").
        messages = await converse(request.app, sender, text.strip())
    except RasaUnavailable as failure:
        log.warning("rasa unavailable: %s", failure)
        return error(503, BUSY)
    return json_response({"messages": messages})


def _image_extension(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in _IMAGE_TYPES if head.startswith(magic)), None)


async def upload(request: web.Request) -> web.Response:
    """Keep a citizen's photo and give back the address Open311 will carry as media_url."""
    fields = await form(request, MAX_PHOTO + 64 * 1024, PHOTO_TOO_LARGE)
    sender, photo = fields.get("sender"), fields.get("photo")
    if not isinstance(sender, str) or not valid_sender(sender):
        raise Refused(400, BAD_SENDER)
    if not isinstance(photo, web.FileField):
        raise Refused(400, "Dạ, cháu chưa nhận được ảnh.")
    data = photo.file.read(MAX_PHOTO + 1)
    extension = _image_extension(data[:12])
    if extension is None:
        raise Refused(415, "Dạ, tệp ni không phải ảnh. Bác chọn ảnh chụp giúp cháu.")
    if len(data) > MAX_PHOTO:
        raise Refused(413, PHOTO_TOO_LARGE)
    return web.json_response({"url": request.app[UPLOADS].keep(sender, data, extension)})


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_static(common.gateway.UPLOADS, app[SETTINGS].uploads)
    app.router.add_post("/api/chat", chat)
    app.router.add_post("/api/upload", upload)
