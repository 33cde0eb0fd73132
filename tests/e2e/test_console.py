"""The officer console against the whole stack: a conversation handed to people, taken, answered on the citizen's
web chat, handed back; who may do what."""
from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import HOTLINE_TOKEN, post_json
from tests.e2e.test_conversations import BOOKING, Chat
from tests.e2e.test_telegram import voice_note
from tests.e2e.test_zalo import ZaloCitizen, buttons, texts
from tests.phone import FAST, Caller
from voice.codecs import SAMPLE_RATE, decode

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "mat-khau-du-dai-1"
ACCOUNTS = {"lan": ("Lê Thị Lan", "officer"), "minh": ("Trần Minh", "officer"), "vy": ("Hồ Vy", "volunteer"),
            "khoa": ("Khoa Tạm", "officer")}


def add_accounts(env: dict[str, str]) -> dict:
    """The officers' and volunteers' accounts, made with the console's own command in the gateway's database."""
    for username, (name, role) in ACCOUNTS.items():
        subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "bot.console", "add-user", username, "--name", name,
                        "--role", role], input=PASSWORD + "\n", text=True, check=True, cwd=ROOT,
                       env=env, capture_output=True)
    return ACCOUNTS


@pytest.fixture(scope="session")
def officers(stack):
    return add_accounts(stack.env)


class Desk:
    """One officer's browser session, through the console's API."""

    def __init__(self, stack, username: str):
        self.stack, self.username = stack, username
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> Desk:
        status, body = await self.post("/login", {"username": self.username, "password": PASSWORD}, csrf=False)
        assert status == 200, body
        self.csrf = body["csrf"]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()

    async def get(self, path: str) -> tuple[int, dict]:
        async with self.session.get(f"{self.stack.gateway}/console/api{path}") as response:
            return response.status, await response.json()

    async def post(self, path: str, body: dict | None = None, csrf: bool = True) -> tuple[int, dict]:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        async with self.session.post(f"{self.stack.gateway}/console/api{path}", json=body or {},
                                     headers=headers) as response:
            return response.status, await response.json()

    async def waiting(self, sender: str, timeout: float = 30) -> dict:
        for _ in range(int(timeout * 5)):
            _, queue = await self.get("/queue")
            found = [c for c in queue["conversations"] if c["sender"] == sender]
            if found:
                return found[0]
            await asyncio.sleep(0.2)
        raise AssertionError(f"{sender} never reached the queue")


class CitizenLine:
    """A web chat's live line (server-sent events), as the page opens it."""

    def __init__(self, stack, sender: str):
        self.url = f"{stack.gateway}/api/stream?sender={sender}"
        self.messages: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self) -> CitizenLine:
        self.session = aiohttp.ClientSession()
        self.response = await self.session.get(self.url)
        self.task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for line in self.response.content:
            if line.startswith(b"data: "):
                await self.messages.put(json.loads(line[6:]))

    async def next(self, timeout: float = 20) -> dict:
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def __aexit__(self, *exc) -> None:
        self.task.cancel()
        self.response.close()
        await self.session.close()


def tracker(stack, sender: str) -> dict:
    import urllib.request

    url = f"{stack.rasa}/conversations/{sender}/tracker?token={stack.env['RASA_TOKEN']}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def book_a_visit(stack) -> tuple[str, str]:
    """A citizen of the web chat who booked a clinic visit: their sender id and the booking code. A name and phone
    of their own: the clinic takes one name and phone as one patient, whose visits every chat of theirs sees."""
    chat = Chat(stack)
    chat.say("/book_clinic")
    chat.press("Trung ương Huế")
    chat.press("Tim mạch")
    chat.first_button()
    chat.first_button()
    chat.say("Phan Văn Bình")
    chat.say("0914 222 333")
    return chat.sender, BOOKING.search(chat.press("Đặt lịch")).group()


async def test_an_officer_takes_answers_and_hands_back_a_web_chat(stack, officers):
    sender, booking = await asyncio.to_thread(book_a_visit, stack)
    say = lambda text: asyncio.to_thread(post_json, f"{stack.gateway}/api/chat", {"sender": sender, "text": text})  # noqa: E731
    await say("tui muốn phản ánh rác")
    status, answer = await say("gặp cán bộ")
    assert status == 200 and "cán bộ" in answer["messages"][0]["text"]
    async with Desk(stack, "lan") as lan, Desk(stack, "minh") as minh, CitizenLine(stack, sender) as line:
        waiting = await lan.waiting(sender)
        assert waiting["channel"] == "web" and waiting["reason"] == "asked" and waiting["status"] == "queued"
        assert waiting["context"]["known"]["user_phone"] == "0914222333"  # what the assistant knew
        conversation = waiting["id"]
        _, seen = await lan.get(f"/conversations/{conversation}")
        assert [v["id"] for v in seen["appointments"]] == [booking] and seen["appointments"][0]["where"]
        assert (await lan.post(f"/conversations/{conversation}/take"))[0] == 200
        status, refused = await minh.post(f"/conversations/{conversation}/take")
        assert status == 409 and "Lê Thị Lan" in refused["error"]

        status, _ = await lan.post(f"/conversations/{conversation}/reply",
                                   {"text": "Dạ, cháu là cán bộ Lan. Rác ở chỗ mô ạ?", "choices": ["Kiệt 5", "Khác"]})
        assert status == 200
        heard = await line.next()
        assert heard["text"] == "Dạ, cháu là cán bộ Lan. Rác ở chỗ mô ạ?" and heard["officer"] == "Lê Thị Lan"
        assert [b["title"] for b in heard["buttons"]] == ["Kiệt 5", "Khác"]

        status, answer = await say("ở kiệt 5 <script>alert(1)</script>")
        assert status == 200 and answer["messages"] == []  # the assistant is silent while Lan holds it
        _, held = await lan.get(f"/conversations/{conversation}")
        assert held["messages"][-1] == {**held["messages"][-1], "author": "citizen",
                                        "text": "ở kiệt 5 <script>alert(1)</script>"}

        # A voice note reaches the officer as the recognised text and the recording itself.
        form = aiohttp.FormData({"sender": sender})
        form.add_field("audio", voice_note("tôi ở kiệt năm"), filename="note.ogg", content_type="audio/ogg")
        async with aiohttp.ClientSession() as citizen, citizen.post(f"{stack.gateway}/api/voice",
                                                                    data=form) as spoken:
            assert spoken.status == 200 and (await spoken.json())["messages"] == []
        _, held = await lan.get(f"/conversations/{conversation}")
        note = held["messages"][-1]
        assert note["author"] == "citizen" and note["text"].startswith("🎤 ") and note["audio"]
        async with lan.session.get(f"{stack.gateway}/console/api/recordings/{note['audio']}") as recording:
            assert recording.status == 200
            assert len(decode(await recording.read(), SAMPLE_RATE)) > SAMPLE_RATE  # over a second of it
        async with aiohttp.ClientSession() as nobody, nobody.get(
                f"{stack.gateway}/console/api/recordings/{note['audio']}") as refused:
            assert refused.status == 401

        assert (await lan.post(f"/conversations/{conversation}/hand-back"))[0] == 200
        assert "trợ lý đã quay lại" in (await line.next())["text"]
    status, answer = await say("/help")
    assert status == 200 and "giúp được bác" in answer["messages"][0]["text"]

    # In the tracker: the pause, the citizen's words and Lan's, recorded as hers; no word of the assistant's.
    events = tracker(stack, sender)["events"]
    paused = max(i for i, e in enumerate(events) if e["event"] == "pause")
    resumed = max(i for i, e in enumerate(events) if e["event"] == "resume")
    between = events[paused + 1:resumed]
    assert [e["text"] for e in between if e["event"] == "bot"] == ["Dạ, cháu là cán bộ Lan. Rác ở chỗ mô ạ?"]
    assert all(e["metadata"].get("officer") == "Lê Thị Lan" for e in between if e["event"] == "bot")
    assert not [e for e in between if e["event"] == "action" and e["name"] != "action_listen"]
    assert [e["text"] for e in between if e["event"] == "user"][0] == "ở kiệt 5 <script>alert(1)</script>"


async def test_who_may_do_what(stack, officers):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as nobody:
        async with nobody.get(f"{stack.gateway}/console/api/queue") as response:
            assert response.status == 401  # no session
        async with nobody.post(f"{stack.gateway}/console/api/login",
                               json={"username": "lan", "password": "sai"}) as response:
            assert response.status == 401 and "Sai" in (await response.json())["error"]
        for _ in range(5):
            async with nobody.post(f"{stack.gateway}/console/api/login",
                                   json={"username": "khoa", "password": "sai-mat-khau"}):
                pass
        async with nobody.post(f"{stack.gateway}/console/api/login",
                               json={"username": "khoa", "password": PASSWORD}) as response:
            assert response.status == 429  # locked, even with the right password
    sender = f"web-{uuid.uuid4()}"
    await asyncio.to_thread(post_json, f"{stack.gateway}/api/chat", {"sender": sender, "text": "gặp cán bộ"})
    async with Desk(stack, "lan") as lan, Desk(stack, "vy") as vy:
        conversation = (await lan.waiting(sender))["id"]
        assert (await lan.post(f"/conversations/{conversation}/take", csrf=False))[0] == 403  # no CSRF token
        status, _ = await vy.get(f"/conversations/{conversation}")
        assert status == 403  # a volunteer sees only what was given to them
        _, queue = await vy.get("/queue")
        assert all(c["sender"] != sender for c in queue["conversations"])
        assert (await vy.post(f"/conversations/{conversation}/take"))[0] == 403
        async with lan.session.get(f"{stack.gateway}/console") as page:
            cookie = page.request_info  # noqa: F841 - the page itself needs no session
            assert page.status == 200
    cookies = {c.key: c for c in lan.session.cookie_jar}
    assert cookies["trolyhue_console"]["httponly"] and cookies["trolyhue_console"]["samesite"] == "Strict"


async def test_a_callers_key_0_reaches_the_console_and_the_officer_is_heard(stack, officers):
    async with Desk(stack, "lan") as lan:
        async with Caller(stack.gateway, HOTLINE_TOKEN, playback=FAST) as call:
            await call.listen()  # the greeting
            await call.press("0")
            await call.listen()  # told to hold, or that an officer will call back
            waiting = await lan.waiting(f"call-{call.call_sid}")
            assert waiting["channel"] == "phone"
            conversation = waiting["id"]
            assert (await lan.post(f"/conversations/{conversation}/take"))[0] == 200
            status, sent = await lan.post(f"/conversations/{conversation}/reply",
                                          {"text": "Dạ, cháu là cán bộ Lan, cháu nghe bác đây ạ."})
            assert status == 200 and sent["delivery"] == "sent"
            spoken = await call.listen()  # the officer's words, spoken to the caller
            assert len(spoken) > 8000 and abs(spoken.astype("int32")).max() > 1000
        # The caller hung up: a reply cannot reach them; it shows as failed, and retrying says so again.
        status, sent = await lan.post(f"/conversations/{conversation}/reply", {"text": "Bác còn nghe không ạ?"})
        assert status == 200 and sent["delivery"] == "failed"
        status, again = await lan.post(f"/conversations/{conversation}/messages/{sent['id']}/retry")
        assert status == 200 and again["delivery"] == "failed"


async def test_a_zalo_conversation_is_answered_in_zalo(stack, officers, zalo):
    mai = ZaloCitizen(stack, zalo)
    await asyncio.to_thread(mai.say, "gặp cán bộ")
    async with Desk(stack, "lan") as lan:
        conversation = (await lan.waiting(f"zalo:{mai.id}"))["id"]
        assert (await lan.post(f"/conversations/{conversation}/take"))[0] == 200
        status, sent = await lan.post(f"/conversations/{conversation}/reply",
                                      {"text": "Dạ, cháu là cán bộ Lan ạ.", "choices": ["Có", "Không"]})
        assert status == 200 and sent["delivery"] == "sent"
        [reply] = await asyncio.to_thread(mai.replies)
        assert reply["text"] == "👤 Cán bộ Lê Thị Lan:\nDạ, cháu là cán bộ Lan ạ."  # who writes, as on the web
        assert buttons([reply]) == ["Có", "Không"]
        mai.send("user_send_text", {"text": "Có"})  # the assistant stays silent; Lan reads it
        for _ in range(50):
            _, held = await lan.get(f"/conversations/{conversation}")
            if held["messages"][-1]["text"] == "Có":
                break
            await asyncio.sleep(0.2)
        assert held["messages"][-1]["author"] == "citizen" and zalo.sent_to(mai.id)[mai.seen:] == []
        assert (await lan.post(f"/conversations/{conversation}/hand-back"))[0] == 200
        assert "trợ lý đã quay lại" in texts(await asyncio.to_thread(mai.replies))
