"""Scale by configuration: two Rasa servers share a PostgreSQL tracker store and Redis locks, and cityapi and
the action server keep their data in PostgreSQL - the same code as the embedded default, other settings."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from common.database import create_engine
from tests.e2e.conftest import Stack, post_json
from tests.e2e.test_conversations import CASE_ID, Chat, get_json

pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and shutil.which("redis-server")),
    reason="needs TEST_DATABASE_URL and redis-server (scripts/test sets up both as root)",
)


async def fresh_database(name: str) -> str:
    """An empty database beside TEST_DATABASE_URL's, its URL in the plain form every store accepts."""
    server = os.environ["TEST_DATABASE_URL"]
    engine = create_engine(server)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await conn.execute(sa.text(f"CREATE DATABASE {name}"))
    await engine.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def query(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(sa.text(sql), params)]
    finally:
        await engine.dispose()


def redis_calls(port: int, command: str) -> int:
    """How many times the Redis server ran a command (its INFO commandstats)."""
    info = subprocess.run(["redis-cli", "-p", str(port), "INFO", "commandstats"], capture_output=True, text=True,
                          check=True).stdout
    for line in info.splitlines():
        if line.startswith(f"cmdstat_{command}:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, redis_port):
    """A whole stack plus a second Rasa server, all on PostgreSQL and Redis."""
    # One database per system, as in production (cityapi and Rasa would both have a table named events).
    databases = {name: asyncio.run(fresh_database(f"trolyhue_scale_{name}"))
                 for name in ("city", "actions", "rasa", "console")}
    stores = {"DATABASE_URL": databases["city"], "ACTIONS_DATABASE_URL": databases["actions"],
              "RASA_TRACKER_URL": databases["rasa"], "GATEWAY_DATABASE_URL": databases["console"],
              "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_port)}
    first = Stack(tmp_path_factory.mktemp("scale-first"), stores)
    second = first.another_rasa(tmp_path_factory.mktemp("scale-second"))
    first.launch()
    second.launch("rasa")
    try:
        first.wait_ready()
        second.wait_ready()
        yield first, second, databases
    finally:
        second.stop()
        first.stop()


def rest(rasa_url: str, sender: str, text: str) -> str:
    """A message straight to one Rasa server's REST channel, as a second gateway would send it."""
    status, replies = post_json(f"{rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})
    assert status == 200 and replies, (status, replies)
    return "\n".join(reply.get("text", "") for reply in replies)


def tracker_events(stack: Stack, sender: str) -> list[dict]:
    url = f"{stack.rasa}/conversations/{sender}/tracker?token={stack.env['RASA_TOKEN']}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["events"]


def test_a_report_goes_on_whichever_rasa_server_gets_each_message(deployment):
    first, second, databases = deployment
    chat = Chat(first)  # through the first stack's gateway and Rasa; every other turn goes to the second
    assert "việc chi" in chat.say("tui muốn phản ánh")
    assert "chỗ mô" in rest(second.rasa, chat.sender, "đèn đường hỏng")
    assert "tả ngắn" in chat.say("kiệt 45 đường Phan Đình Phùng")
    assert "ảnh" in rest(second.rasa, chat.sender, "đèn tắt cả tuần nay, tối đi không thấy đường")
    assert "số điện thoại" in chat.say("không có ảnh")
    assert "Gửi phản ánh này nhé bác?" in rest(second.rasa, chat.sender, "0905 123 456")
    case_id = CASE_ID.search(chat.say("/affirm")).group()  # the "Gửi đi" button

    report = get_json(f"{first.city}/open311/v2/requests/{case_id}.json")[0]
    assert report["service_code"] == "den_duong"
    assert report["address"] == "kiệt 45 đường Phan Đình Phùng"
    # Everything is in PostgreSQL: the conversation, the city's record, and no SQLite file was made.
    stored = asyncio.run(query(databases["rasa"], "SELECT count(*) FROM events WHERE sender_id = :sender",
                       sender=chat.sender))
    assert stored[0][0] >= 20
    assert asyncio.run(query(databases["city"], "SELECT count(*) FROM service_requests WHERE id = :id",
                     id=case_id)) == [(1,)]
    assert asyncio.run(query(databases["console"], "SELECT count(*) FROM console_conversations")) == [(0,)]
    assert not list(first.var.glob("*.sqlite3")) and not list(second.var.glob("*.sqlite3"))


def test_messages_of_one_conversation_arriving_at_both_servers_at_once_are_taken_one_at_a_time(
        deployment, redis_port):
    first, second, _ = deployment
    messages = ["chào cháu", "cảm ơn cháu", "cháu giúp được chi", "chào cháu nghe", "cảm ơn nhiều", "giúp tui với",
                "chào", "cảm ơn"]
    senders = [f"web-{uuid.uuid4()}" for _ in range(4)]
    sets_before = redis_calls(redis_port, "set")

    sends = [(sender, i, text) for sender in senders for i, text in enumerate(messages)]
    with ThreadPoolExecutor(len(sends)) as pool:  # all at once
        list(pool.map(lambda send: rest((first, second)[send[1] % 2].rasa, send[0], send[2]), sends))
    for sender in senders:
        events = tracker_events(second, sender)
        said = [event["text"] for event in events if event["event"] == "user"]
        assert sorted(said) == sorted(messages), said  # none lost, none doubled
        # Each message was answered before the next was read: a user event never follows another directly.
        kinds = [event["event"] if event["event"] != "action" else event["name"] for event in events
                 if event["event"] in ("user", "action")]
        for before, after in zip(kinds, kinds[1:]):
            assert not (before == "user" and after == "user"), kinds
        assert kinds[-1] == "action_listen"
    assert redis_calls(redis_port, "set") - sets_before >= len(senders) * len(messages)  # the locks were Redis's
