"""Notifications: how fast a backlog of status changes goes out, and the lag from an officer's change in cityapi
to the message leaving the gateway.

Run in the application environment:  .venv/bin/python bench/notify.py [--events 10000] [--changes 50]
Everything in process on loopback: the real cityapi and the real gateway on SQLite files in a temporary folder;
the messages leave over the web chat's live line (server-sent events) to 100 open pages, as nothing else here is
as fast as the gateway itself (Telegram allows 30 messages a second, Zalo answers only within its window).
Prints medians and 95th percentiles, as these machines are noisy.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.voice import print_table, row  # noqa: E402
from bot.app import make_app  # noqa: E402
from bot.context import DATABASE, IDENTITIES  # noqa: E402
from bot.notify.service import CityFeed, Notifier  # noqa: E402
from bot.notify.store import NotifyStore  # noqa: E402
from bot.settings import Settings  # noqa: E402
from cityapi.app import make_app as make_city  # noqa: E402
from cityapi.config import Settings as CitySettings  # noqa: E402
from tests.conftest import API_KEY, OFFICER_TOKEN, TEST_ENV, free_port  # noqa: E402

PAGES = 100


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


class Pages:
    """Open web chats listening on their live line; when each message arrived, by the case it names."""

    def __init__(self, session: aiohttp.ClientSession, gateway: str):
        self.session, self.gateway, self.arrived = session, gateway, []
        self.tasks = []

    async def open(self, sender: str) -> None:
        response = await self.session.get(f"{self.gateway}/api/stream", params={"sender": sender})
        self.tasks.append(asyncio.create_task(self._listen(response)))

    async def _listen(self, response) -> None:
        async for line in response.content:
            if line.startswith(b"data:"):
                self.arrived.append((time.perf_counter(), json.loads(line[5:])["text"]))


async def main(events: int, changes: int, poll: float) -> None:
    var = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    city_runner, city = await serve(make_city(CitySettings.from_env(
        {**TEST_ENV, "DATABASE_URL": f"sqlite:///{var / 'city.sqlite3'}"})))
    settings = Settings.from_env({"TROLYHUE_VAR": str(var), "RASA_URL": f"http://127.0.0.1:{free_port()}",
                                  "CITYAPI_URL": city, "CITYAPI_API_KEY": API_KEY, "NOTIFY_ENABLED": "0",
                                  "NOTIFY_QUIET_HOURS": "0-0", "NOTIFY_POLL_SECONDS": str(poll)})
    app = make_app(settings)
    gateway_runner, gateway = await serve(app)
    officer = {"Authorization": f"Bearer {OFFICER_TOKEN}"}
    async with aiohttp.ClientSession() as session, \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as listening:
        pages = Pages(listening, gateway)
        senders = [f"web-bench-{n:08d}" for n in range(PAGES)]
        for sender in senders:
            await pages.open(sender)
        cases = []
        for sender in senders:
            form = {"api_key": API_KEY, "service_code": "rac_thai", "lat": "16.4637", "long": "107.5909",
                    "description": "Rác đổ đầu kiệt.", "account_id": sender}
            async with session.post(f"{city}/open311/v2/requests.json", data=form) as response:
                cases.append((await response.json())[0]["service_request_id"])

        async def change(case: str, n: int) -> None:
            status = ("in_progress", "resolved")[n % 2]
            async with session.patch(f"{city}/officer/requests/{case}", headers=officer,
                                     json={"status": status, "status_notes": f"Lần {n}."}) as response:
                assert response.status == 200

        started = time.perf_counter()
        for n in range(events):
            await change(cases[n % PAGES], n)
        print(f"backlog: {events} changes made in cityapi in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        notifier = Notifier(app, NotifyStore(app[DATABASE]), app[IDENTITIES], CityFeed(city, API_KEY),
                            settings.notify)
        await notifier.store.create_schema()
        started = time.perf_counter()
        await notifier.ingest()
        planned = time.perf_counter()
        await notifier.send_due()
        while len(pages.arrived) < events:
            await asyncio.sleep(0.05)
        done = time.perf_counter()
        print(f"backlog of {events}: planned in {planned - started:.1f} s, all out in {done - started:.1f} s: "
              f"{events / (done - started):.0f} notifications/s (sending alone {events / (done - planned):.0f}/s)")

        # Lag, with the notifier running as in the gateway (one round every `poll` seconds).
        loop = asyncio.create_task(notifier.run())
        lags = []
        for n in range(changes):
            case = cases[n % PAGES]
            before = len(pages.arrived)
            made = time.perf_counter()
            await change(case, n)
            while len(pages.arrived) == before:
                await asyncio.sleep(0.005)
            lags.append(pages.arrived[before][0] - made)
            await asyncio.sleep(random.uniform(0, poll))  # changes come at any moment of a round
        loop.cancel()
        print(f"\nlag from an officer's change to the message leaving the gateway (rounds every {poll} s):")
        print_table([row("status change -> message out", lags)])
        print(f"(median {statistics.median(lags) * 1000:.0f} ms; half a round is {poll * 500:.0f} ms)")
        await notifier.close()
        for task in pages.tasks:
            task.cancel()
    await gateway_runner.cleanup()
    await city_runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--poll", type=float, default=Settings.from_env({}).notify.poll_seconds)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.changes, args.poll))
