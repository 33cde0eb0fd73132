"""Actions run against a real cityapi on loopback and a real SQLite store."""
from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from rasa_sdk import Tracker

from actions import services as services_module
from actions.services import Services
from actions.settings import Settings
from cityapi.app import make_app
from cityapi.config import Settings as CitySettings
from tests.conftest import API_KEY, TEST_ENV, free_port


@pytest.fixture
async def city_server(tmp_path):
    settings = CitySettings.from_env({**TEST_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'city.sqlite3'}"})
    server = TestServer(make_app(settings), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def _settings(tmp_path, url: str) -> Settings:
    return Settings.from_env({"CITYAPI_URL": url, "CITYAPI_API_KEY": API_KEY, "CITYAPI_TIMEOUT": "2",
                              "CITYAPI_RETRIES": "2", "TROLYHUE_VAR": str(tmp_path)})


@pytest.fixture
async def city(city_server, tmp_path):
    """The actions' services, pointed at the running cityapi."""
    instance = await Services.start(_settings(tmp_path, str(city_server.make_url("")).rstrip("/")))
    services_module.use(instance)
    yield instance
    services_module.use(None)
    await instance.close()


@pytest.fixture
async def city_down(tmp_path):
    """The actions' services, pointed at a port where nothing listens."""
    instance = await Services.start(_settings(tmp_path, f"http://127.0.0.1:{free_port()}"))
    services_module.use(instance)
    yield instance
    services_module.use(None)
    await instance.close()


def tracker(text: str = "", intent: str = "inform", entities: list | None = None, slots: dict | None = None,
            active_loop: str | None = None, events: list | None = None, sender: str = "web-test-0001") -> Tracker:
    """A tracker as Rasa sends it to the action server, for the latest user message `text`."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99},
              "entities": [{"entity": k, "value": v} for k, v in (entities or [])]}
    return Tracker(sender, slots or {}, latest, events or [{"event": "user", "text": text, "parse_data": latest}],
                   False, None, {"name": active_loop} if active_loop else {}, "action_listen")


def said(dispatcher) -> list[str]:
    """What the dispatcher was asked to say: response names, or the texts."""
    return [m.get("response") or m.get("text") for m in dispatcher.messages]
