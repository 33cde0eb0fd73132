"""`python -m cityapi` as the README starts it: a real process on a loopback port."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.cityapi.helpers import AUTH, PHONE_SYSTEM, report_form
from tests.conftest import API_KEY, OFFICER_TOKEN, TEST_ENV, free_port

ROOT = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, database_url: str, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **TEST_ENV, "DATABASE_URL": database_url}
        self.log = log

    async def __aenter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cityapi", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{self.base}/health") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientConnectionError:
                    pass
                assert self.process.poll() is None, self.log.read_text()
                await asyncio.sleep(0.1)
        raise AssertionError("cityapi did not start: " + self.log.read_text())

    async def __aexit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


async def _counts(session, base) -> tuple:
    services = await (await session.get(f"{base}/open311/v2/services.json")).json()
    locations = await (await session.get(f"{base}/fhir/R4/Location")).json()
    slots = await (await session.get(f"{base}/fhir/R4/Slot", params={"_count": "0"})).json()
    return len(services), locations["total"], slots["total"]


async def test_restart_keeps_data_and_seeds_once(database_url, tmp_path):
    log = tmp_path / "cityapi.log"
    async with aiohttp.ClientSession() as session:
        async with Server(database_url, log) as server:
            counts = await _counts(session, server.base)
            response = await session.post(f"{server.base}/open311/v2/requests.json",
                                          data=report_form(phone="0905 123 456"))
            first = (await response.json())[0]["service_request_id"]
            lookup = await session.get(f"{server.base}/fhir/R4/Appointment", headers=AUTH,
                                       params={"patient:identifier": f"{PHONE_SYSTEM}|0905123456"})
            assert lookup.status == 200
        async with Server(database_url, log) as server:
            assert await _counts(session, server.base) == counts
            again = await session.get(f"{server.base}/open311/v2/requests/{first}.json")
            assert again.status == 200
            response = await session.post(f"{server.base}/open311/v2/requests.json", data=report_form())
            second = (await response.json())[0]["service_request_id"]
    assert int(second[-6:]) == int(first[-6:]) + 1  # the counter survives restarts
    text = log.read_text()
    assert "listening on http://127.0.0.1" in text and "Appointment?patient" in text
    assert "0905123456" not in text  # phone numbers are masked in the logs


async def test_no_key_reaches_the_log(tmp_path):
    """A client that puts its key in the URL (Open311 allows it) does not get it written to the access log."""
    log = tmp_path / "cityapi.log"
    async with aiohttp.ClientSession() as session:
        async with Server(f"sqlite:///{tmp_path / 'city.sqlite3'}", log) as server:
            listed = await session.get(f"{server.base}/open311/v2/requests.json",
                                       params={"account_id": "web-00000001", "api_key": API_KEY})
            assert listed.status == 200
            officer = await session.get(f"{server.base}/events", params={"token": OFFICER_TOKEN})
            assert officer.status == 401
    text = log.read_text()
    assert "/open311/v2/requests.json?account_id=web-00000001&api_key=***" in text
    assert API_KEY not in text and OFFICER_TOKEN not in text


def test_missing_secrets_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYAPI_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = subprocess.run([sys.executable, "-m", "cityapi", "--port", str(free_port())],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "CITYAPI_API_KEYS is not set" in result.stderr


def test_unsupported_database_is_a_clear_error():
    env = {**os.environ, **TEST_ENV, "DATABASE_URL": "mysql://x/y"}
    result = subprocess.run([sys.executable, "-m", "cityapi", "--port", str(free_port())],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "DATABASE_URL: unsupported scheme mysql" in result.stderr
