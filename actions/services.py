"""The one set of clients and stores the actions use, built from the settings once per process."""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest

from common.database import create_engine
from common.logs import request_id, setup_logging
from common.observability import HEADER, new_request_id

from .clients.fhir import FhirClient
from .clients.http import JsonHttp
from .clients.open311 import Open311Client
from .clients.privacy import PrivacyClient
from .settings import Settings
from .store import Store, drain_forever


@dataclass
class Services:
    settings: Settings
    http: JsonHttp
    open311: Open311Client
    fhir: FhirClient
    privacy: PrivacyClient
    store: Store

    @classmethod
    async def start(cls, settings: Settings) -> "Services":
        http = JsonHttp(settings.cityapi_url, settings.timeout, settings.retries)
        store = Store(create_engine(settings.database_url))
        await store.create_schema()
        return cls(settings, http, Open311Client(http, settings.api_key), FhirClient(http, settings.api_key),
                   PrivacyClient(http, settings.api_key), store)

    async def close(self) -> None:
        await self.http.close()
        await self.store.engine.dispose()


_current: Services | None = None


async def services() -> Services:
    """The process's services, started on first use (the action server's event loop)."""
    global _current
    if _current is None:
        _current = await Services.start(Settings.from_env())
    return _current


def use(instance: Services | None) -> None:
    """Install the services to use (the action server plugin at start, and tests)."""
    global _current
    _current = instance


OUTBOX = Gauge("actions_outbox_reports", "Confirmed reports kept for the city, by state", ["state"])


def _request_id_of(request) -> str:
    """The gateway's request id, which Rasa carries in the message's metadata to the action call."""
    try:
        body = zlib.decompress(request.body) if request.headers.get("Content-Encoding") == "deflate" else request.body
        given = json.loads(body)["tracker"]["latest_message"]["metadata"]["request_id"]
    except (ValueError, KeyError, TypeError, zlib.error):
        given = request.headers.get(HEADER)
    return new_request_id(given if isinstance(given, str) else None)


def attach(app) -> None:
    """Start the services with the action server, the outbox sender beside them, and what operators read:
    /ready (the database answers), /metrics (the outbox), the request id in every log line and city call."""
    from sanic.response import json as json_response
    from sanic.response import raw

    @app.middleware("request")
    async def _request_id(request):
        request_id.set(_request_id_of(request) if request.path == "/webhook" else new_request_id(None))

    @app.get("/ready")
    async def _ready(_request):
        try:
            async with (await services()).store.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as problem:  # a readiness probe reports, it never crashes
            return json_response({"status": "unready", "failed": {"database": type(problem).__name__}}, 503)
        return json_response({"status": "ready", "failed": {}})

    @app.get("/metrics")
    async def _metrics(_request):
        OUTBOX.clear()
        for state, count in (await (await services()).store.backlog()).items():
            OUTBOX.labels(state).set(count)
        return raw(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)

    @app.listener("before_server_start")
    async def _start(app, _loop=None):
        setup_logging()
        city = await Services.start(Settings.from_env())
        use(city)
        app.add_task(drain_forever(city.store, city.open311, city.settings.outbox_interval),
                     name="outbox")

    @app.listener("after_server_stop")
    async def _stop(app, _loop=None):
        if _current is not None:
            await _current.close()
