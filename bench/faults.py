"""Abuse and faults under steady load, on the production topology (scripts/topology). First abuse beside the
citizens (a flood from one sender, oversized bodies, malformed JSON, noise as a voice note, forged signatures on
the hotline's, Telegram's and Zalo's webhooks), then
faults one after another: a Rasa server killed mid-conversation,
a gateway killed and started again, cityapi stopped for a while, PostgreSQL restarted, an action server made slow
(frozen for longer than the proxy waits). Afterwards, from the databases: every confirmed report stored exactly
once, every booking's slot busy exactly once, no conversation that lost its state, every citizen message answered
or politely refused, every abuse refused clearly; the citizens' latency beside the abuse and before it.
tests/e2e/test_replicas.py runs the short form; the long one by hand, as root:

    .venv/bin/python bench/faults.py [--citizens 12] [--outage 60]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.citizens import Record, crowd, percentile  # noqa: E402
from bench.topology import Topology, fresh_databases  # noqa: E402
from common.database import create_engine  # noqa: E402


@dataclass
class Outcome:
    record: Record
    t0: float = 0.0  # time.monotonic() at the start of the run
    faults: list[tuple[float, str]] = field(default_factory=list)  # (seconds into the run, what happened)
    reports_once: int = 0  # confirmed reports found exactly once
    reports_wrong: dict[str, int] = field(default_factory=dict)  # marker -> times stored, when not once
    unconfirmed_twice: int = 0  # reports whose confirming turn was refused, stored more than once
    bookings_busy: int = 0
    bookings_wrong: list[str] = field(default_factory=list)
    slots_doubly_booked: int = 0
    busy_without_booking: tuple[int, int] = (0, 0)  # before, after: a lost booking would grow it
    abuse: dict[str, int] = field(default_factory=dict)  # status -> answers to the abuser
    abuse_window: tuple[float, float] = (0.0, 0.0)  # seconds into the run

    def lines(self) -> list[str]:
        turns = self.record.turns
        answered = [t.seconds for t in turns if t.status == 200]
        return [
            *(f"  {at:6.1f} s  {what}" for at, what in self.faults),
            f"turns {len(turns)}: answered {len(answered)}, politely refused "
            f"{sum(t.status != 200 and t.polite for t in turns)}, unanswered {sum(not t.polite for t in turns)}; "
            f"p50 {percentile(answered, 50) * 1000:.0f} ms, p95 {percentile(answered, 95) * 1000:.0f} ms, "
            f"p99 {percentile(answered, 99) * 1000:.0f} ms, longest {max(answered, default=0):.1f} s",
            f"conversations that lost their state (an answer off the script's step): "
            f"{sum(not t.on_script for t in turns)}",
            *(f"  {t.started - self.t0:6.1f} s  {t.note}" for t in turns if t.note),
            f"confirmed reports {len(self.record.reports)}: stored exactly once {self.reports_once}, "
            f"otherwise {self.reports_wrong or 'none'}; refused at confirming {len(self.record.unconfirmed)}, "
            f"stored twice {self.unconfirmed_twice}",
            f"bookings {len(self.record.bookings)}: slot busy and booked once {self.bookings_busy}, "
            f"otherwise {self.bookings_wrong or 'none'}; slots booked twice {self.slots_doubly_booked}; "
            f"busy slots without a booking before/after {self.busy_without_booking}",
            f"abuse beside the citizens ({self.abuse_window[1] - self.abuse_window[0]:.0f} s): answers by status "
            f"{dict(sorted(self.abuse.items()))}; citizens' turns p50 {self._p50(True):.0f} ms during it, "
            f"{self._p50(False):.0f} ms in the quiet before it",
        ]

    def _p50(self, during: bool) -> float:
        start, end = self.abuse_window
        quiet_start = start - (end - start)
        if during:
            picked = [t.seconds for t in self.record.turns if t.status == 200 and start <= t.started - self.t0 < end]
        else:
            picked = [t.seconds for t in self.record.turns
                      if t.status == 200 and quiet_start <= t.started - self.t0 < start]
        return percentile(picked, 50) * 1000

    @property
    def sound(self) -> bool:
        turns = self.record.turns
        return (all(t.polite for t in turns) and all(t.on_script for t in turns) and not self.reports_wrong
                and self.abuse and not any("unclear" in k or "no answer" in k for k in self.abuse)
                and not self.unconfirmed_twice and not self.bookings_wrong and not self.slots_doubly_booked
                and self.busy_without_booking[0] == self.busy_without_booking[1])


async def _rows(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(sa.text(sql), params)]
    finally:
        await engine.dispose()


def rows(url: str, sql: str, **params) -> list[tuple]:
    return asyncio.run(_rows(url, sql, **params))


# Every webhook switched on, with secrets the abuser does not have: a Telegram bot in webhook mode (its Bot API
# unreachable here, so it keeps trying to start in the background) and a Zalo OA.
WEBHOOKS = {"TELEGRAM_BOT_TOKEN": "123456:topology-test-token", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
            "ZALO_APP_ID": "4242424242", "ZALO_OA_SECRET": "oa-secret-of-the-test",
            "ZALO_APP_SECRET": "app-secret-of-the-test"}


def with_webhooks(topology: Topology) -> Topology:
    topology.env.update(WEBHOOKS, TELEGRAM_WEBHOOK_URL=f"{topology.proxy}/telegram/webhook")
    return topology


BUSY_WITHOUT_BOOKING = ("SELECT count(*) FROM slots WHERE status = 'busy' AND id NOT IN "
                        "(SELECT slot_id FROM appointments WHERE status = 'booked')")


def check(outcome: Outcome, city: str, drain_seconds: float = 60) -> None:
    """What the databases hold after the run; kept reports are given time to leave the outbox."""
    deadline = time.monotonic() + drain_seconds
    while True:
        counts = {marker: rows(city, "SELECT count(*) FROM service_requests WHERE description LIKE :m",
                               m=f"%mã {marker}%")[0][0] for marker in outcome.record.reports}
        if all(count == 1 for count in counts.values()) or time.monotonic() > deadline:
            break
        time.sleep(2)
    outcome.reports_once = sum(count == 1 for count in counts.values())
    outcome.reports_wrong = {m: c for m, c in counts.items() if c != 1}
    outcome.unconfirmed_twice = sum(
        rows(city, "SELECT count(*) FROM service_requests WHERE description LIKE :m", m=f"%mã {marker}%")[0][0] > 1
        for marker in outcome.record.unconfirmed)
    for code in outcome.record.bookings:
        found = rows(city, "SELECT a.status, s.status FROM appointments a JOIN slots s ON s.id = a.slot_id "
                           "WHERE a.id = :code", code=code)
        if found == [("booked", "busy")]:
            outcome.bookings_busy += 1
        else:
            outcome.bookings_wrong.append(f"{code}: {found}")
    outcome.slots_doubly_booked = len(rows(city, "SELECT slot_id FROM appointments WHERE status = 'booked' "
                                                 "GROUP BY slot_id HAVING count(*) > 1"))
    outcome.busy_without_booking = (outcome.busy_without_booking[0], rows(city, BUSY_WITHOUT_BOOKING)[0][0])


def wait_ready(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def restart_postgres() -> bool:
    """Debian's cluster restarted (needs root); False when it is not ours to restart."""
    if os.geteuid() != 0:
        return False
    cluster = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.split()
    if len(cluster) < 2:
        return False
    subprocess.run(["pg_ctlcluster", cluster[0], cluster[1], "restart"], check=True, capture_output=True)
    return True


async def _abuse(proxy: str, seconds: float) -> dict[str, int]:
    """What an attacker or a broken client sends, for `seconds`, beside the citizens: a flood from one sender,
    oversized bodies, malformed JSON, random bytes as a voice note, forged webhook signatures. Each answer is counted
    by its status, and as "unclear" when it is not a JSON error in Vietnamese (or the hotline's plain 403)."""
    import random

    import aiohttp

    rng = random.Random(7)
    flood = f"web-flood-{rng.getrandbits(32):08x}"
    attempts = [
        ("POST", "/api/chat", {"data": b"{not json", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/chat", {"data": b"x" * (17 * 1024 * 1024), "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/chat", {"data": b"x" * (64 * 1024), "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/voice", {}),  # a new form of noise each time (_noise_form)
        ("POST", "/hotline/voice", {"data": {"CallSid": "CA1", "From": "+84905123456"},
                                    "headers": {"X-Twilio-Signature": "forged"}}),
        ("POST", "/telegram/webhook", {"json": {"update_id": 1, "message": {"text": "chào"}},
                                       "headers": {"X-Telegram-Bot-Api-Secret-Token": "forged"}}),
        ("POST", "/zalo/webhook", {"json": {"app_id": WEBHOOKS["ZALO_APP_ID"], "event_name": "user_send_text",
                                            "timestamp": str(int(time.time() * 1000)), "sender": {"id": "1"},
                                            "message": {"msg_id": "forged", "text": "chào"}},
                                   "headers": {"X-ZEvent-Signature": "mac=" + "0" * 64}}),
    ]
    counts: dict[str, int] = {}
    until = time.monotonic() + seconds

    async def send(session, method, path, kwargs) -> None:
        try:
            async with session.request(method, proxy + path, **kwargs) as response:
                body = await response.text()
                # A webhook answers a provider's machine: a plain 403 is its clear refusal.
                webhook = path.startswith(("/hotline", "/telegram", "/zalo"))
                clear = response.status == 200 or response.status == 403 and webhook or \
                    '"error": "Dạ' in body or '"error":"Dạ' in body
                key = f"{response.status}" if clear else f"{response.status} unclear"
        except aiohttp.ClientError as failure:
            key = f"no answer ({type(failure).__name__})"
        counts[key] = counts.get(key, 0) + 1

    async def mixed(session) -> None:
        while time.monotonic() < until:
            method, path, kwargs = attempts[rng.randrange(len(attempts))]
            if path == "/api/voice":
                kwargs = {"data": _noise_form(rng)}
            await send(session, method, path, kwargs)
            await asyncio.sleep(0.02)

    async def flooding(session) -> None:
        # Its own pace (10 a second), not the mixed loop's: slow bodies beside it must not keep it under the limit.
        while time.monotonic() < until:
            await send(session, "POST", "/api/chat", {"json": {"sender": flood, "text": "chào"}})
            await asyncio.sleep(0.1)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(mixed(session), flooding(session))
    return counts


def _noise_form(rng):
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("sender", "web-abuser-000001")
    form.add_field("audio", bytes(rng.getrandbits(8) for _ in range(32 * 1024)), filename="a.ogg")
    return form


def plan(topology: Topology, outage: float, slow: float, abuse: float,
         gap: float) -> list[tuple[float, str, Callable[[], str | None] | None]]:
    """(seconds after the previous step, what, how: it may say what happened instead); the abuse (how: None) runs
    from a quiet start for `abuse` seconds, before the faults; `gap` seconds of steady load between faults."""
    def gateway_back() -> None:
        topology.restart("gateway-1")
        wait_ready(topology.url("gateway-1"))

    def city_back() -> None:
        topology.restart("cityapi")
        wait_ready(topology.url("cityapi"))

    return [
        (abuse, "abuse beside the citizens", None),
        (gap, "Rasa server rasa-2 killed (it stays down: rasa-1 carries on)", lambda: topology.kill("rasa-2")),
        (gap, "gateway gateway-1 killed", lambda: topology.kill("gateway-1")),
        (gap / 2, "gateway gateway-1 started again", gateway_back),
        (gap, f"cityapi stopped for {outage:.0f} s", lambda: topology.kill("cityapi")),
        (outage, "cityapi started again", city_back),
        (gap, "PostgreSQL restarted",
         lambda: None if restart_postgres() else "PostgreSQL NOT restarted (not root, or no local cluster)"),
        (gap, f"action server actions-1 frozen for {slow:.0f} s (slower than the proxy waits)",
         lambda: topology.freeze("actions-1")),
        (slow, "action server actions-1 thawed", lambda: topology.thaw("actions-1")),
        (1.5 * gap, "end of the faults", lambda: None),
    ]


def run(topology: Topology, citizens: int, think: float, outage: float, slow: float, abuse: float = 15,
        gap: float = 10) -> Outcome:
    """The steady load while the abuse and then the faults happen one after another; the checks afterwards."""
    city = topology.env["DATABASE_URL"]
    steps = plan(topology, outage, slow, abuse, gap)
    outcome = Outcome(Record())
    outcome.busy_without_booking = (rows(city, BUSY_WITHOUT_BOOKING)[0][0], 0)
    seconds = abuse + sum(after for after, *_ in steps) + 5
    load = threading.Thread(target=lambda: asyncio.run(crowd(topology.proxy, citizens, seconds, think,
                                                             record=outcome.record)))
    outcome.t0 = started = time.monotonic()
    load.start()
    time.sleep(abuse)  # the quiet window the abuse is compared with
    for after, what, act in steps:
        if act is None:
            begun = time.monotonic() - started
            outcome.abuse = asyncio.run(_abuse(topology.proxy, after))
            outcome.abuse_window = (begun, time.monotonic() - started)
        else:
            time.sleep(after)
            what = act() or what
        outcome.faults.append((time.monotonic() - started, what))
    load.join()
    check(outcome, city)
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=12)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--outage", type=float, default=60, help="seconds cityapi stays stopped")
    parser.add_argument("--slow", type=float, default=30, help="seconds an action server stays frozen")
    parser.add_argument("--abuse", type=float, default=30, help="seconds of abuse beside the citizens")
    parser.add_argument("--gap", type=float, default=10, help="seconds of steady load between faults")
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL",
                                                             "postgresql:///postgres?host=/var/run/postgresql"))
    args = parser.parse_args()
    topology = with_webhooks(Topology(Path(tempfile.mkdtemp(prefix="trolyhue-faults-")),
                                      fresh_databases(args.database, "trolyhue_faults"), {"OUTBOX_INTERVAL": "2"}))
    try:
        topology.start()
        outcome = run(topology, args.citizens, args.think, args.outage, args.slow, args.abuse, args.gap)
    finally:
        topology.stop()
    print("\n".join(outcome.lines()))
    print("sound" if outcome.sound else "NOT SOUND")
    return 0 if outcome.sound else 1


if __name__ == "__main__":
    sys.exit(main())
