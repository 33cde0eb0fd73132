"""The gateway application."""
from __future__ import annotations

from aiohttp import web

from . import hotline, voicechat, webchat
from .settings import Settings


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=max(webchat.MAX_PHOTO, settings.voice.max_audio_bytes) + 64 * 1024)
    app.router.add_get("/health", _health)
    webchat.setup(app, settings)
    voicechat.setup(app)
    hotline.setup(app)
    return app
