"""The console's own rules, in the gateway without Rasa: passwords, sessions, CSRF, lock-out, the queue across a
restart, one holder at a time, what officers read (the whole takeover is in tests/e2e/test_console*.py)."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import make_app
from bot.bus import OFFICERS
from bot.console.auth import hash_password, password_ok
from bot.console.service import readable
from bot.console.store import ConsoleStore
from bot.context import CONSOLE
from bot.settings import Settings
from common.database import create_engine

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "mat-khau-du-dai-1"


def settings(var: Path) -> Settings:
    return Settings.from_env({"TROLYHUE_VAR": str(var), "RASA_URL": "http://127.0.0.1:9"})


async def console_with_lan(aiohttp_client, var: Path):
    client = await aiohttp_client(make_app(settings(var)))
    await client.server.app[CONSOLE].store.add_officer("lan", "Lê Thị Lan", "officer", hash_password(PASSWORD))
    return client


def test_passwords_are_salted_scrypt_hashes():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$") and first != second and PASSWORD not in first
    assert password_ok(PASSWORD, first) and not password_ok(PASSWORD + "x", first)
    assert not password_ok(PASSWORD, "plain") and not password_ok(PASSWORD, "")


async def test_a_session_cookie_and_its_csrf_token(aiohttp_client, tmp_path):
    client = await console_with_lan(aiohttp_client, tmp_path)
    assert (await client.get("/console/api/queue")).status == 401
    wrong = await client.post("/console/api/login", json={"username": "lan", "password": "sai"})
    assert wrong.status == 401 and (await wrong.json())["error"] == "Sai tên đăng nhập hoặc mật khẩu."
    nobody = await client.post("/console/api/login", json={"username": "ai-do", "password": PASSWORD})
    assert nobody.status == 401 and (await nobody.json())["error"] == "Sai tên đăng nhập hoặc mật khẩu."
    good = await client.post("/console/api/login", json={"username": "lan", "password": PASSWORD})
    assert good.status == 200
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    csrf = (await good.json())["csrf"]
    assert (await client.get("/console/api/queue")).status == 200
    assert (await client.post("/console/api/logout")).status == 403  # no CSRF token
    assert (await client.post("/console/api/logout", headers={"X-CSRF-Token": "x" + csrf})).status == 403
    assert (await client.post("/console/api/logout", headers={"X-CSRF-Token": csrf})).status == 200
    assert (await client.get("/console/api/queue")).status == 401  # the session is gone


async def test_five_wrong_passwords_lock_the_account(aiohttp_client, tmp_path):
    client = await console_with_lan(aiohttp_client, tmp_path)
    for _ in range(5):
        await client.post("/console/api/login", json={"username": "lan", "password": "sai-mat-khau"})
    locked = await client.post("/console/api/login", json={"username": "lan", "password": PASSWORD})
    assert locked.status == 429 and "khóa" in (await locked.json())["error"]


async def test_the_queue_survives_a_restart_and_one_officer_holds_a_conversation(database_url):
    url = database_url  # a SQLite file, and PostgreSQL when TEST_DATABASE_URL is set
    store = ConsoleStore(create_engine(url))
    await store.create_schema()
    conversation = await store.enqueue("telegram:42", "asked", {"form": "report_form"},
                                       [{"from": "user", "text": "gặp cán bộ"}])
    assert await store.enqueue("telegram:42", "stuck", {}, []) == conversation  # one place in the queue
    await store.engine.dispose()

    again = ConsoleStore(create_engine(url))  # as a restarted gateway
    [waiting] = await again.queue()
    assert (waiting.id, waiting.channel, waiting.reason) == (conversation, "telegram", "stuck")
    assert waiting.status == "queued"
    assert [m.text for m in await again.transcript(conversation)] == ["gặp cán bộ"]
    results = await asyncio.gather(again.take(conversation, "lan"), again.take(conversation, "minh"))
    assert results in ([None, "lan"], ["minh", None])  # one holds it; the other is told who
    assert (await again.conversation(conversation)).holder == ("lan" if results[0] is None else "minh")
    await again.close(conversation)
    assert await again.queue() == [] and await again.take(conversation, "lan") == ""
    await again.engine.dispose()


def test_officers_read_buttons_and_attachments_not_payloads():
    assert readable("/ask_human") == ("Gặp cán bộ", None)
    assert readable('/inform{"photo_url": "https://hue.example/uploads/a.jpg"}') == (
        "📷 Ảnh", "https://hue.example/uploads/a.jpg")
    assert readable('/inform{"lat": "16.463700", "long": "107.590900"}')[0] == "📍 Vị trí: 16.463700, 107.590900"
    assert readable("<b>rác</b>") == ("<b>rác</b>", None)  # as typed: the page shows it as text


@pytest.mark.parametrize("password, code", [("ngan", 2), (PASSWORD, 0)])
def test_accounts_are_made_by_a_command_with_a_long_enough_password(tmp_path, password, code):
    result = subprocess.run([sys.executable, "-m", "bot.console", "add-user", "vy", "--name", "Hồ Vy",
                             "--role", "volunteer"], input=password + "\n", text=True, capture_output=True,
                            cwd=ROOT, env={"TROLYHUE_VAR": str(tmp_path), "PYTHONPATH": str(ROOT), "PATH": ""})
    assert result.returncode == code, result.stderr
    assert (tmp_path / "gateway.sqlite3").exists() == (code == 0)


async def logged_in(client, username: str) -> dict:
    answer = await client.post("/console/api/login", json={"username": username, "password": PASSWORD})
    assert answer.status == 200
    return {"X-CSRF-Token": (await answer.json())["csrf"]}


async def test_search_export_and_a_volunteer_given_one_conversation(aiohttp_client, tmp_path):
    client = await console_with_lan(aiohttp_client, tmp_path)
    store = client.server.app[CONSOLE].store
    await store.add_officer("vy", "Hồ Vy", "volunteer", hash_password(PASSWORD))
    known = {"known": {"user_name": "Nguyễn Thị Lan", "user_phone": "0905123456"}}
    asked = [{"from": "user", "text": "phản ánh PA-2026-000123 tới mô rồi"}]
    mine = await store.enqueue("zalo:7", "asked", known, asked)
    other = await store.enqueue("web-0000-1111", "stuck", {}, [{"from": "user", "text": "<b>chào</b>"}])
    lan = await logged_in(client, "lan")
    for words in ("0905123456", "PA-2026-000123", "Thị Lan"):
        found = await (await client.get("/console/api/search", params={"q": words})).json()
        assert [c["id"] for c in found["conversations"]] == [mine], words
    text = await (await client.get(f"/console/api/conversations/{other}/transcript.txt")).text()
    assert text.splitlines()[1].endswith("Bác: <b>chào</b>")  # plain text, as said
    assigned = await client.post(f"/console/api/conversations/{mine}/assign", json={"volunteer": "vy"}, headers=lan)
    assert assigned.status == 200
    client.session.cookie_jar.clear()
    await logged_in(client, "vy")
    queue = await (await client.get("/console/api/queue")).json()
    assert [c["id"] for c in queue["conversations"]] == [mine]
    assert (await client.get(f"/console/api/conversations/{mine}")).status == 200
    assert (await client.get(f"/console/api/conversations/{other}")).status == 403
    assert (await client.get(f"/console/api/conversations/{other}/transcript.txt")).status == 403
    found = await (await client.get("/console/api/search", params={"q": "chào"})).json()
    assert found["conversations"] == []  # not theirs
    actions = [(a.officer, a.action) for a in await store.audit_log()]
    assert ("lan", "assign") in actions and ("vy", "refused") in actions and ("lan", "export") in actions


@pytest.mark.clock
async def test_an_idle_holder_is_reminded_once(aiohttp_client, tmp_path, clock_at):
    clock_at(datetime(2026, 12, 8, 9, 0))
    client = await console_with_lan(aiohttp_client, tmp_path)
    console = client.server.app[CONSOLE]
    conversation = await console.store.enqueue("telegram:5", "asked", {}, [])
    assert await console.store.take(conversation, "lan") is None
    async with console.hub.bus.listen(OFFICERS) as officers:  # what every console is told
        await console.check_idle(timedelta(minutes=10), timedelta(minutes=30))
        assert officers.empty()
        clock_at(datetime(2026, 12, 8, 9, 11))
        await console.check_idle(timedelta(minutes=10), timedelta(minutes=30))
        await console.check_idle(timedelta(minutes=10), timedelta(minutes=30))
        assert [officers.get_nowait() for _ in range(officers.qsize())] == [
            {"type": "idle", "conversation": conversation, "holder": "lan"}]
    clock_at(datetime(2026, 12, 8, 9, 31))  # Rasa cannot be resumed here: it stays held rather than queued paused
    await console.check_idle(timedelta(minutes=10), timedelta(minutes=30))
    assert (await console.store.conversation(conversation)).status == "held"


@pytest.mark.clock
async def test_two_gateways_remind_an_idle_holder_once_and_give_the_conversation_back_once(
        aiohttp_client, tmp_path, clock_at):
    clock_at(datetime(2026, 12, 8, 9, 0))
    first = (await console_with_lan(aiohttp_client, tmp_path)).server.app[CONSOLE]
    second = (await aiohttp_client(make_app(settings(tmp_path)))).server.app[CONSOLE]  # the same database
    conversation = await first.store.enqueue("telegram:5", "asked", {}, [])
    assert await first.store.take(conversation, "lan") is None
    async with first.hub.bus.listen(OFFICERS) as one, second.hub.bus.listen(OFFICERS) as other:
        told = lambda: [queue.get_nowait() for queue in (one, other) for _ in range(queue.qsize())]  # noqa: E731
        clock_at(datetime(2026, 12, 8, 9, 11))
        await asyncio.gather(*(console.check_idle(timedelta(minutes=10), timedelta(minutes=30))
                               for console in (first, second, first, second)))
        assert told() == [{"type": "idle", "conversation": conversation, "holder": "lan"}]
        await first.store.touch(conversation)  # the holder acts: a later silence is reminded again
        clock_at(datetime(2026, 12, 8, 9, 22))
        await asyncio.gather(first.check_idle(timedelta(minutes=10), timedelta(minutes=30)),
                             second.check_idle(timedelta(minutes=10), timedelta(minutes=30)))
        assert told() == [{"type": "idle", "conversation": conversation, "holder": "lan"}]
    # Given back (once Rasa resumed it) by one gateway only: the other finds it moved.
    assert sorted(await asyncio.gather(first.store.requeue(conversation, "lan"),
                                       second.store.requeue(conversation, "lan"))) == [False, True]
    assert (await first.store.conversation(conversation)).status == "queued"


async def test_a_gateway_restart_keeps_the_queue_and_the_officers_session(aiohttp_client, tmp_path):
    first = await console_with_lan(aiohttp_client, tmp_path)
    await first.server.app[CONSOLE].handed_off("web-1234-5678-90", {
        "reason": "not_understood", "said": "/affirm", "form": None, "known": {"user_phone": "0905123456"},
        "recent": [{"from": "user", "text": "cái ống nước bể"}, {"from": "bot", "text": "Dạ, cháu chưa hiểu ạ."}]})
    await logged_in(first, "lan")
    cookies = {cookie.key: cookie.value for cookie in first.session.cookie_jar}
    await first.close()

    second = await aiohttp_client(make_app(settings(tmp_path)))  # the gateway, started again
    second.session.cookie_jar.update_cookies(cookies)
    [waiting] = (await (await second.get("/console/api/queue")).json())["conversations"]
    assert (waiting["reason"], waiting["context"]["said"]) == ("not_understood", "Có")
    seen = await (await second.get(f"/console/api/conversations/{waiting['id']}")).json()
    assert [(m["author"], m["text"]) for m in seen["messages"]] == [("citizen", "cái ống nước bể"),
                                                                     ("assistant", "Dạ, cháu chưa hiểu ạ.")]
