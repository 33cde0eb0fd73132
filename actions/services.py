"""The one set of clients and stores the actions use, built from the settings once per process."""
from __future__ import annotations

from dataclasses import dataclass

from common.database import create_engine
from common.logs import setup_logging

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


def attach(app) -> None:
    """Start the services with the action server, and the outbox sender beside them."""
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
