from __future__ import annotations

import pytest

from cityapi.app import make_app
from cityapi.config import Settings
from tests.conftest import TEST_ENV


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings.from_env({**TEST_ENV, "DATABASE_URL": database_url})


@pytest.fixture
async def client(aiohttp_client, settings):
    """The real cityapi application on a loopback port, on a fresh real database."""
    return await aiohttp_client(make_app(settings))
