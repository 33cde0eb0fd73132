"""The aiohttp application: both protocols, the officer API, seeding at start."""
from __future__ import annotations

import asyncio
import contextlib

import sqlalchemy as sa
from aiohttp import web

from common import observability
from common.database import create_engine

from . import fhir, officer, open311, privacy
from .config import Settings
from .context import ENGINE, SETTINGS
from .responses import error_middleware
from .seed import refresh_slots_daily, seed

MAX_BODY = 1024 * 1024


def make_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[observability.middleware("cityapi"), error_middleware],
                          client_max_size=MAX_BODY)
    app[SETTINGS] = settings

    async def database() -> None:
        async with app[ENGINE].connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    observability.add_endpoints(app, {"database": database})
    open311.setup(app)
    fhir.setup(app)
    officer.setup(app)
    privacy.setup(app)
    app.cleanup_ctx.append(_database)
    return app


async def _database(app: web.Application):
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url)
    await seed(engine, settings.slot_days)
    app[ENGINE] = engine
    refresher = asyncio.create_task(refresh_slots_daily(engine, settings.slot_days))
    yield
    refresher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await refresher
    await engine.dispose()
