"""Zalo's rules that need no conversation: signatures, location shapes, how replies look, the token pair and the
reply window (whole conversations are in tests/e2e/test_zalo.py)."""
from __future__ import annotations

import hmac
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import make_app
from bot.channel import Answer, deliver
from bot.context import BUSY
from bot.settings import Settings, ZaloSettings
from bot.zalo_api import ZaloClient, ZaloError
from bot.zalo_channel import ZALO, location_of, signature_ok, zalo_messages
from bot.zalo_store import TokenStore, ZaloState, create_schema
from common.database import create_engine
from tests.zalo.oa_server import ZaloServer

ROOT = Path(__file__).resolve().parents[2]
APP = {"ZALO_APP_ID": "1234567890", "ZALO_APP_SECRET": "app-secret", "ZALO_OA_SECRET": "oa-secret"}
NOON = datetime(2026, 12, 2, 12, 0)

pytestmark = pytest.mark.clock


@pytest.fixture
def zalo():
    server = ZaloServer(APP["ZALO_APP_ID"], APP["ZALO_APP_SECRET"], APP["ZALO_OA_SECRET"])
    yield server
    server.stop()


@pytest.fixture
async def engines(database_url):
    """Gateways' connections to one gateway database (SQLite, or PostgreSQL when the tests have it)."""
    made = []

    def engine():
        made.append(create_engine(database_url))
        return made[-1]

    await create_schema(engine())
    yield engine
    for each in made:
        await each.dispose()


def settings_for(zalo: ZaloServer) -> ZaloSettings:
    return ZaloSettings.from_env(env_for(zalo))


def env_for(zalo: ZaloServer) -> dict[str, str]:
    return {**APP, "ZALO_ACCESS_TOKEN": zalo.access, "ZALO_REFRESH_TOKEN": zalo.refresh,
            "ZALO_API_BASE_URL": zalo.url, "ZALO_OAUTH_BASE_URL": zalo.url}


def test_the_signature_is_a_plain_sha256_of_app_body_timestamp_and_secret(zalo):
    settings = settings_for(zalo)
    raw, headers = zalo.event("user_send_text", "42", {"msg_id": "m1", "text": "chào"})
    stamp = json.loads(raw)["timestamp"]
    assert signature_ok(settings, raw, stamp, headers["X-ZEvent-Signature"])
    assert not signature_ok(settings, raw + b" ", stamp, headers["X-ZEvent-Signature"])
    assert not signature_ok(settings, raw, str(int(stamp) + 1), headers["X-ZEvent-Signature"])
    hmac_signed = hmac.new(APP["ZALO_OA_SECRET"].encode(), APP["ZALO_APP_ID"].encode() + raw + stamp.encode(),
                           "sha256").hexdigest()
    assert not signature_ok(settings, raw, stamp, "mac=" + hmac_signed)  # an HMAC is not what Zalo sends


@pytest.mark.parametrize("payload", [
    {"coordinates": {"latitude": "16.4637", "longitude": "107.5909"}},
    {"coordinates": {"lat": 16.4637, "long": 107.5909}},
    {"lat": 16.4637, "long": 107.5909},
])
def test_a_location_in_either_shape(payload):
    assert location_of(payload) == pytest.approx((16.4637, 107.5909))


def test_no_location_in_a_broken_payload():
    assert location_of({"coordinates": {"latitude": "north"}}) is None


def test_up_to_five_short_choices_are_buttons_longer_lists_are_numbered():
    two = zalo_messages({"text": "Gửi nhé?", "buttons": [{"title": "Gửi đi", "payload": "/affirm"},
                                                        {"title": "Sửa lại", "payload": "/deny"}]})
    assert two == [{"text": "Gửi nhé?", "attachment": {"type": "template", "payload": {"buttons": [
        {"title": "Gửi đi", "type": "oa.query.show", "payload": "Gửi đi"},
        {"title": "Sửa lại", "type": "oa.query.show", "payload": "Sửa lại"}]}}}]
    nine = zalo_messages({"text": "Việc chi ạ?", "buttons": [{"title": f"Việc {n}", "payload": f"/x{n}"}
                                                           for n in range(1, 10)]})
    assert nine[0]["text"].splitlines()[1:3] == ["1. Việc 1", "2. Việc 2"] and "attachment" not in nine[0]
    long = zalo_messages({"text": "Nơi khám?", "buttons": [{"title": "Bệnh viện " + "rất " * 12, "payload": "/a"}]})
    assert long[0]["text"].startswith("Nơi khám?\n1. Bệnh viện")


async def test_an_expired_token_is_renewed_once_and_the_pair_survives_a_restart(engines, zalo):
    settings = settings_for(zalo)
    client = ZaloClient(settings, TokenStore(engines(), settings))
    zalo.expire_access_token()
    await client.send({"user_id": "42"}, {"text": "Dạ."})
    assert zalo.refreshes == 1 and zalo.sent_to("42") == [{"text": "Dạ."}]
    await client.close()
    # A new process starts with the first tokens in its environment, long spent: it reads the saved pair.
    again = ZaloClient(settings, TokenStore(engines(), settings))
    await again.send({"user_id": "42"}, {"text": "Dạ, lần nữa."})
    assert zalo.refreshes == 1 and len(zalo.sent_to("42")) == 2
    await again.close()


async def test_a_token_near_its_end_is_renewed_before_use(engines, zalo, clock_at):
    clock_at(NOON)
    settings = settings_for(zalo)
    client = ZaloClient(settings, TokenStore(engines(), settings))
    await client.send({"user_id": "7"}, {"text": "Dạ."})  # unknown age: used, and renewed only when refused
    assert zalo.refreshes == 0
    await client.refresh(zalo.access)  # now its age is known: about 25 h
    clock_at(NOON + timedelta(hours=24, minutes=30))
    await client.send({"user_id": "7"}, {"text": "Dạ."})
    assert zalo.refreshes == 2
    await client.close()


async def test_a_refused_refresh_keeps_the_old_pair(engines, zalo):
    settings = ZaloSettings.from_env({**env_for(zalo), "ZALO_REFRESH_TOKEN": "spent"})
    tokens = TokenStore(engines(), settings)
    client = ZaloClient(settings, tokens)
    zalo.expire_access_token()
    with pytest.raises(ZaloError):
        await client.send({"user_id": "42"}, {"text": "Dạ."})
    assert (await tokens.read()).refresh_token == "spent"  # nothing half-written; the configured pair is used
    async with tokens.exclusive():  # and the renewal's lease was given back
        pass
    await client.close()


RACE = """
import asyncio, json, sys
from bot.settings import ZaloSettings
from bot.zalo_api import ZaloClient
from bot.zalo_store import TokenStore, create_schema
from common.database import create_engine

async def main():
    env, database, stale = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    engine = create_engine(database)
    await create_schema(engine)
    client = ZaloClient(ZaloSettings.from_env(env), TokenStore(engine, ZaloSettings.from_env(env)))
    try:
        print(await client.refresh(stale))
    finally:
        await client.close()
        await engine.dispose()

asyncio.run(main())
"""


def test_three_gateways_refreshing_at_once_spend_the_refresh_token_once(database_url, zalo):
    stale = zalo.access
    zalo.expire_access_token()
    command = [sys.executable, "-c", RACE, json.dumps(env_for(zalo) | {"ZALO_ACCESS_TOKEN": stale}),
               database_url, stale]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    racers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(3)]
    results = [racer.communicate(timeout=60) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers), [err for _, err in results]
    assert {out.strip() for out, _ in results} == {zalo.access}
    assert zalo.refreshes == 1  # Zalo's refresh token is single-use: a second spend would have failed


async def test_replies_count_within_the_window_and_wait_outside_it(engines, zalo, clock_at):
    clock_at(NOON)
    state = ZaloState(engines(), settings_for(zalo))
    assert await state.reply_to("42") is None  # never heard from: no free reply
    await state.heard_from("42", "m1")
    other = ZaloState(engines(), settings_for(zalo))  # another gateway replying to the same citizen
    recipients = [await (state, other)[i % 2].reply_to("42") for i in range(9)]
    assert recipients[:8] == [{"user_id": "42", "message_id": "m1"}] * 8 and recipients[8] is None
    await state.heard_from("42", "m2")
    clock_at(NOON + timedelta(hours=47))
    assert await state.reply_to("42") == {"user_id": "42", "message_id": "m2"}
    clock_at(NOON + timedelta(hours=49))
    assert await state.reply_to("42") is None
    await state.wait("42", {"text": "Dạ, phản ánh của bác đã xong."})
    await state.wait("42", {"text": "Dạ, lần hai."})
    # In the gateway database: another gateway (or this one restarted) finds them, in order, once.
    assert [m["text"] for m in await other.take_waiting("42")] == ["Dạ, phản ánh của bác đã xong.", "Dạ, lần hai."]
    assert await state.take_waiting("42") == []


async def test_an_event_is_taken_once(engines, zalo, clock_at):
    clock_at(NOON)
    state = ZaloState(engines(), settings_for(zalo))
    assert await state.first_time("m1") and not await state.first_time("m1")
    assert not await ZaloState(engines(), settings_for(zalo)).first_time("m1")  # by another gateway either


async def test_a_reply_outside_the_window_is_sent_with_the_citizens_next_message(tmp_path, zalo, clock_at,
                                                                                   aiohttp_client):
    clock_at(NOON)
    app = make_app(Settings.from_env({**env_for(zalo), "TROLYHUE_VAR": str(tmp_path),
                                      "RASA_URL": "http://127.0.0.1:9"}))  # Rasa is down: the answer is "busy"
    await aiohttp_client(app)
    channel = app[ZALO]
    await channel.state.heard_from("42", "m1")
    clock_at(NOON + timedelta(hours=50))
    # Written to at any time, by sender, as notifications will be (bot/channel.py).
    await deliver(app, "zalo:42", Answer([{"text": "Dạ, phản ánh PA 2026 000 001 đã xong.", "buttons": []}]))
    assert zalo.sent_to("42") == []
    await channel.handle({"event_name": "user_send_text", "message": {"msg_id": "m2", "text": "chào"}}, "42")
    assert zalo.sent_to("42") == [{"text": "Dạ, phản ánh PA 2026 000 001 đã xong."}, {"text": BUSY}]
