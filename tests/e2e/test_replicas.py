"""The production topology (scripts/topology): nginx in front of 2 gateways, 2 Rasa servers and 2 action servers,
cityapi, on PostgreSQL and Redis. A conversation goes on whichever replica takes each message; an officer's reply
reaches the page another gateway holds open; a phone call goes through the proxy; then bench/faults.py's short
form under load."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from bench import faults
from bench.topology import Topology, fresh_databases
from tests.conftest import REPORTS
from tests.e2e.conftest import post_json
from tests.e2e.test_console import CitizenLine, Desk, add_accounts
from tests.e2e.test_conversations import CASE_ID, get_json
from tests.phone import FAST, Caller
from voice.codecs import PHONE_RATE

pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and shutil.which("redis-server") and shutil.which("nginx")),
    reason="needs TEST_DATABASE_URL, redis-server and nginx (scripts/test sets them up as root)",
)


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    stores = fresh_databases(os.environ["TEST_DATABASE_URL"], "trolyhue_replicas")
    # A Monday morning in Huế, whatever the hour of the run: the clinics' free times are the same each time.
    settings = {"OUTBOX_INTERVAL": "1", "CITYAPI_TIMEOUT": "2", "NOTIFY_POLL_SECONDS": "1",
                "TROLYHUE_NOW": "2026-12-07T08:00:00+07:00"}
    deployed = faults.with_webhooks(Topology(tmp_path_factory.mktemp("topology"), stores, settings))
    try:
        deployed.start()
    except RuntimeError:
        deployed.stop()
        raise
    yield deployed
    deployed.stop()


@pytest.fixture(scope="module")
def first_gateway(topology):
    """What the console's test helpers need of a stack: a gateway (the first, directly), with the accounts."""
    add_accounts(topology.env)
    return SimpleNamespace(gateway=topology.url("gateway-1"), env=topology.env)


def say(topology: Topology, sender: str, text: str) -> str:
    status, body = post_json(f"{topology.proxy}/api/chat", {"sender": sender, "text": text})
    assert status == 200, body
    return "\n".join(m["text"] for m in body["messages"])


def web_turns(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    return sum(float(line.split()[-1]) for line in metrics.splitlines()
               if line.startswith('gateway_turns_total{channel="web",outcome="answered"}'))


def query(url: str, sql: str, **params) -> list[tuple]:
    return faults.rows(url, sql, **params)


def test_a_report_goes_on_whichever_replicas_take_its_messages(topology):
    before = [web_turns(topology.url(f"gateway-{i}")) for i in (1, 2)]
    sender = f"web-{uuid.uuid4()}"
    assert "việc chi" in say(topology, sender, "tui muốn phản ánh")
    assert "chỗ mô" in say(topology, sender, "Đèn đường hỏng")  # a button's title, read on either gateway
    assert "tả ngắn" in say(topology, sender, "kiệt 45 đường Phan Đình Phùng")
    assert "ảnh" in say(topology, sender, "đèn tắt cả tuần nay, tối đi không thấy đường")
    assert "số điện thoại" in say(topology, sender, "Không có ảnh")
    assert "Gửi phản ánh này nhé bác?" in say(topology, sender, "0905 123 456")
    case_id = CASE_ID.search(say(topology, sender, "Gửi đi")).group()

    after = [web_turns(topology.url(f"gateway-{i}")) for i in (1, 2)]
    assert all(a > b for a, b in zip(after, before)), (before, after)  # both gateways took some of its turns
    report = get_json(f"{topology.url('cityapi')}/open311/v2/requests/{case_id}.json")[0]
    assert (report["service_code"], report["address"]) == ("den_duong", "kiệt 45 đường Phan Đình Phùng")
    stores = topology.env
    assert query(stores["DATABASE_URL"], "SELECT count(*) FROM service_requests WHERE id = :id", id=case_id) == [(1,)]
    assert query(stores["RASA_TRACKER_URL"], "SELECT count(*) FROM events WHERE sender_id = :s", s=sender)[0][0] > 20
    assert query(stores["GATEWAY_DATABASE_URL"], "SELECT count(*) FROM reply_last WHERE sender = :s",
                 s=sender) == [(1,)]
    assert not list(topology.var.glob("*.sqlite3"))  # nothing fell back to an embedded store


def test_messages_of_one_conversation_at_both_rasa_servers_at_once_are_taken_one_at_a_time(topology):
    messages = ["chào cháu", "cảm ơn cháu", "cháu giúp được chi", "chào cháu nghe", "cảm ơn nhiều", "giúp tui với"]
    senders = [f"web-{uuid.uuid4()}" for _ in range(4)]
    servers = [topology.url("rasa-1"), topology.url("rasa-2")]

    def rest(send) -> None:
        sender, i, text = send
        status, replies = post_json(f"{servers[i % 2]}/webhooks/rest/webhook", {"sender": sender, "message": text})
        assert status == 200 and replies, (status, replies)

    with ThreadPoolExecutor(len(senders) * len(messages)) as pool:  # all at once
        list(pool.map(rest, [(s, i, t) for s in senders for i, t in enumerate(messages)]))
    token = topology.env["RASA_TOKEN"]
    for sender in senders:
        with urllib.request.urlopen(f"{servers[1]}/conversations/{sender}/tracker?token={token}") as response:
            events = json.loads(response.read())["events"]
        assert sorted(e["text"] for e in events if e["event"] == "user") == sorted(messages)  # none lost or doubled
        kinds = [e["event"] if e["event"] != "action" else e["name"] for e in events
                 if e["event"] in ("user", "action")]
        assert all(not (a == "user" and b == "user") for a, b in zip(kinds, kinds[1:])), kinds
        assert kinds[-1] == "action_listen"


def test_a_request_id_goes_from_the_proxy_through_rasa_and_the_actions_to_cityapi(topology):
    trace = f"trace-{uuid.uuid4().hex}"
    request = urllib.request.Request(f"{topology.proxy}/api/chat", method="POST", headers={
        "Content-Type": "application/json", "X-Request-ID": trace},
        data=json.dumps({"sender": f"web-{uuid.uuid4()}", "text": "phản ánh của tui"}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:  # the action asks cityapi for the reports
        assert response.headers["X-Request-ID"] == trace
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in (topology.var / "topology.log").read_text().splitlines()
                 if line.startswith("{") and trace in line]
        services = {line.get("service", "").split("-")[0] for line in lines}
        if {"gateway", "cityapi"} <= services or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {"gateway", "cityapi"} <= services, services  # cityapi heard it from the action server, via Rasa
    assert all(line["request_id"] == trace for line in lines)


async def test_an_officer_on_one_gateway_reaches_a_page_open_on_the_other(topology, first_gateway):
    sender = f"web-{uuid.uuid4()}"
    assert "cán bộ" in say(topology, sender, "gặp cán bộ")
    line = CitizenLine(SimpleNamespace(gateway=topology.url("gateway-2")), sender)  # the page, on gateway-2
    async with line, Desk(first_gateway, "lan") as desk:  # the officer, on gateway-1
        conversation = await desk.waiting(sender)
        assert (await desk.post(f"/conversations/{conversation['id']}/take"))[0] == 200
        await asyncio.sleep(0.3)  # the page's subscription is in place
        status, sent = await desk.post(f"/conversations/{conversation['id']}/reply",
                                       {"text": "Dạ, cán bộ Lan đây ạ. Bác cần giúp chi?"})
        assert status == 200 and sent["delivery"] == "sent", sent
        heard = await line.next()
        while "text" not in heard:  # a typing notice may come first
            heard = await line.next()
        assert heard["text"] == "Dạ, cán bộ Lan đây ạ. Bác cần giúp chi?"


async def test_a_phone_call_through_the_proxy(topology):
    """The provider's webhook and the call's WebSocket both through nginx (Upgrade passed on)."""
    async with Caller(topology.proxy, topology.env["HOTLINE_AUTH_TOKEN"], playback=FAST) as call:
        greeting = await call.listen()
        assert len(greeting) > 3 * PHONE_RATE  # seconds of speech, not a beep (the keys: tests/e2e/test_hotline.py)


def test_faults_under_load_lose_nothing(topology):
    outcome = faults.run(topology, citizens=6, think=1.5, outage=6, slow=22, abuse=8, gap=5)
    REPORTS.append("Abuse and faults under load (bench/faults.py, short form, 6 citizens):\n"
                   + "\n".join(outcome.lines()))
    assert outcome.record.reports and outcome.record.bookings, "the load made no report or booking"
    assert {"403", "413", "429", "400", "422"} <= set(outcome.abuse), outcome.abuse  # every kind was refused
    assert outcome.sound, "\n".join(outcome.lines())
