"""The gateway application."""
from __future__ import annotations

from aiohttp import web

from . import webchat
from .settings import Settings


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=webchat.MAX_PHOTO + 64 * 1024)
    app.router.add_get("/health", _health)
    webchat.setup(app, settings)
    return app
