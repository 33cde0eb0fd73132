"""Shared test settings: secrets made up per run, and the databases to test on."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from common import clock

API_KEY = secrets.token_hex(16)
OFFICER_TOKEN = secrets.token_hex(16)
OTHER_OFFICER_TOKEN = secrets.token_hex(16)

TEST_ENV = {
    "CITYAPI_API_KEYS": f"assistant:{API_KEY}",
    "CITYAPI_OFFICER_TOKENS": f"lan:{OFFICER_TOKEN},minh:{OTHER_OFFICER_TOKEN}",
}

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=BACKENDS)
async def database_url(request, tmp_path):
    """A real, empty database: a SQLite file, or the PostgreSQL of TEST_DATABASE_URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'city.sqlite3'}"
        return
    import sqlalchemy as sa

    from common.database import create_engine

    url = os.environ["TEST_DATABASE_URL"]
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        await conn.execute(sa.text("CREATE SCHEMA public"))
    await engine.dispose()
    yield url

def wait_for(url: str, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    """Until `url` answers; fails at once if the `process` serving it stops."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except (urllib.error.URLError, ConnectionError):
            assert process.poll() is None, f"{what} stopped"
            time.sleep(0.2)
    raise AssertionError(f"{what} did not start in {timeout} s")


def free_port() -> int:
    """A loopback port nothing listens on (for a server to take, or to find nobody there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory):
    """A real Redis server (Debian's redis-server) on a free loopback port, for this test run."""
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server (scripts/test installs it as root)")
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
                              stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    ping = ["redis-cli", "-p", str(port), "PING"]
    while subprocess.run(ping, capture_output=True, text=True).stdout.strip() != "PONG":
        assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
        time.sleep(0.1)
    yield port
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def clock_at():
    """`clock_at(moment)` makes a moment now for this test (a naive one is Huế time); the clock runs on."""
    yield clock.set_now
    clock.set_now(None)


# Measurements tests want shown at the end of the run (NLU quality and the like).
REPORTS: list[str] = []


def pytest_terminal_summary(terminalreporter):
    for report in REPORTS:
        terminalreporter.write_sep("-", "report")
        terminalreporter.write_line(report)
