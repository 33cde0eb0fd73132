"""The gateway application."""
from __future__ import annotations

from aiohttp import web

from common import observability

from . import console, context, hotline, metrics, notify, telegram_channel, voicechat, webchat, zalo_channel
from .settings import Settings

# What a browser expects of a public page: scripts and styles from our own files only (no inline script),
# no guessing of content types, no address leaked to other sites, no framing by them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), geolocation=(self), camera=(self)",
}


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


def make_app(settings: Settings) -> web.Application:
    # Each route reads its body with a limit of its own (context.json_object, context.form); this one bounds the rest.
    streams = ("/console/api/events", "/api/stream", "/hotline/{token}")  # open as long as a page or a call is
    app = web.Application(middlewares=[observability.middleware("gateway", streams), context.refusals],
                          client_max_size=64 * 1024)
    context.setup(app, settings)
    console.setup(app)
    notify.setup(app)
    app.on_response_prepare.append(_security_headers)
    metrics.setup(app)
    webchat.setup(app)
    voicechat.setup(app)
    hotline.setup(app)
    telegram_channel.setup(app)
    zalo_channel.setup(app)
    return app
