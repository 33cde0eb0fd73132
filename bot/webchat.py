"""The web chat: its page, the message API it calls, and photo uploads."""
from __future__ import annotations

import json
import logging
import re
import uuid
from pathlib import Path

from aiohttp import web

from .rasa import RasaClient, RasaUnavailable
from .replies import ReplyMemory
from .settings import Settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SETTINGS = web.AppKey("settings", Settings)
RASA = web.AppKey("rasa", RasaClient)
MEMORY = web.AppKey("memory", ReplyMemory)
MAX_TEXT = 4000
MAX_PHOTO = 8 * 1024 * 1024
_SENDER = re.compile(r"web-[A-Za-z0-9-]{8,64}")
BUSY = "Dạ, cháu đang bận một chút. Bác thử lại sau ít phút giúp cháu nghe."
BAD_SENDER = "Dạ, phiên trò chuyện không hợp lệ. Bác tải lại trang giúp cháu."
_IMAGE_TYPES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


def error(status: int, message: str, **extra) -> web.Response:
    return json_response({"error": message, **extra}, status=status)


def json_response(data, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def valid_sender(sender: str) -> bool:
    return bool(_SENDER.fullmatch(sender))


async def index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def chat(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return error(400, "Dạ, tin nhắn gửi lên chưa đúng định dạng.")
    sender, text = str(body.get("sender", "")), str(body.get("text", "")).strip()
    if not valid_sender(sender):
        return error(400, BAD_SENDER)
    if not text or len(text) > MAX_TEXT:
        return error(400, "Dạ, tin nhắn trống hoặc dài quá ạ.")
    try:
        # Typed answers pick buttons the way spoken ones do ("1", "cái đầu", "dạ có").
        messages = await request.app[RASA].send(sender, request.app[MEMORY].answer(sender, text))
    except RasaUnavailable as failure:
        log.warning("rasa unavailable: %s", failure)
        return error(503, BUSY)
    return json_response({"messages": request.app[MEMORY].remember(sender, messages)})


def _image_extension(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in _IMAGE_TYPES if head.startswith(magic)), None)


async def upload(request: web.Request) -> web.Response:
    """Keep a citizen's photo and give back the address Open311 will carry as media_url."""
    settings = request.app[SETTINGS]
    try:
        form = await request.post()
    except (ValueError, web.HTTPRequestEntityTooLarge):
        return error(413, "Dạ, ảnh lớn quá ạ. Bác chọn ảnh nhỏ hơn 8 MB giúp cháu.")
    photo = form.get("photo")
    if not isinstance(photo, web.FileField):
        return error(400, "Dạ, cháu chưa nhận được ảnh.")
    data = photo.file.read(MAX_PHOTO + 1)
    extension = _image_extension(data[:12])
    if extension is None:
        return error(415, "Dạ, tệp ni không phải ảnh. Bác chọn ảnh chụp giúp cháu.")
    if len(data) > MAX_PHOTO:
        return error(413, "Dạ, ảnh lớn quá ạ. Bác chọn ảnh nhỏ hơn 8 MB giúp cháu.")
    settings.uploads.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.{extension}"
    (settings.uploads / name).write_bytes(data)
    return web.json_response({"url": f"{settings.public_url}/uploads/{name}"})


def setup(app: web.Application, settings: Settings) -> None:
    app[SETTINGS] = settings
    app[RASA] = RasaClient(settings.rasa_url, settings.rasa_timeout)
    app[MEMORY] = ReplyMemory()
    settings.uploads.mkdir(parents=True, exist_ok=True)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_static("/uploads/", settings.uploads)
    app.router.add_post("/api/chat", chat)
    app.router.add_post("/api/upload", upload)

    async def _close(app: web.Application) -> None:
        await app[RASA].close()

    app.on_cleanup.append(_close)
