"""Told without asking: report status changes and clinic reminders, once, on the citizen's channel
(bot/notify/service.py), and the accounts of one citizen across channels (bot/identity.py)."""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ..context import DATABASE, IDENTITIES, NOTIFIER, SETTINGS
from ..identity import Identities
from .service import CityFeed, Notifier
from .store import NotifyStore

log = logging.getLogger(__name__)

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[IDENTITIES] = identities = Identities(app[DATABASE])
    notifier = None
    if settings.notify.enabled and settings.cityapi_key:
        notifier = Notifier(app, NotifyStore(app[DATABASE]), identities,
                            CityFeed(settings.cityapi_url, settings.cityapi_key), settings.notify)
        app[NOTIFIER] = notifier
    else:
        log.warning("notifications off: %s", "NOTIFY_ENABLED=0" if not settings.notify.enabled
                    else "CITYAPI_API_KEY is not set, the events feed cannot be read")

    async def _run(app: web.Application):
        await identities.create_schema()
        if notifier is None:
            yield
            return
        await notifier.store.create_schema()
        loop = asyncio.create_task(notifier.run())
        yield
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        await notifier.close()

    app.cleanup_ctx.append(_run)
