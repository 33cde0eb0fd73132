"""What every channel shares: pacing sends to chat apps, slowing a flood, and turning what a citizen sent into
the message Rasa gets (conversations themselves are in tests/e2e)."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.app import make_app
from bot.channel import Inbox, Incoming, Pacer, asks_location, asks_phone, message_for
from bot.context import Refused
from bot.settings import Settings
from bot.telegram_channel import keyboard
from tests.conftest import free_port

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
async def app(aiohttp_client, tmp_path):
    """A started gateway (its recogniser loaded); Rasa is not needed to make a message."""
    settings = Settings.from_env({"TROLYHUE_VAR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9",
                                  "GATEWAY_PUBLIC_URL": "http://chat.example"})
    return (await aiohttp_client(make_app(settings))).server.app


async def test_a_chat_gets_one_message_per_interval_in_order():
    pacer, sent = Pacer(per_chat=0.2, overall=100), []

    async def send(n):
        sent.append((n, time.monotonic()))

    await asyncio.gather(*(pacer.send("a", lambda n=n: send(n)) for n in range(5)))
    assert [n for n, _ in sent] == list(range(5))
    gaps = [b - a for (_, a), (_, b) in zip(sent, sent[1:])]
    assert min(gaps) >= 0.2 - 0.01


async def test_other_chats_do_not_wait_for_a_busy_one():
    pacer, sent = Pacer(per_chat=0.5, overall=100), {}

    async def send(chat):
        sent.setdefault(chat, []).append(time.monotonic())

    start = time.monotonic()
    await asyncio.gather(*(pacer.send(chat, lambda c=chat: send(c)) for chat in ("a", "a", "b", "c")))
    assert sent["b"][0] - start < 0.25 and sent["c"][0] - start < 0.25
    assert sent["a"][1] - sent["a"][0] >= 0.5 - 0.01


async def test_no_more_than_the_overall_rate_in_any_second():
    pacer, stamps = Pacer(per_chat=0, overall=10), []

    async def send():
        stamps.append(time.monotonic())

    await asyncio.gather(*(pacer.send(f"chat-{n}", send) for n in range(25)))
    assert len(stamps) == 25
    assert max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps) <= 10


async def test_a_flood_is_told_once_and_the_rest_dropped_until_answered():
    inbox, answered, release = Inbox(burst=3), [], asyncio.Event()

    async def work(n):
        await release.wait()
        answered.append(n)

    verdicts, tasks = [], []
    for n in range(8):
        verdicts.append(inbox.admit("x"))
        if verdicts[-1] == "take":
            tasks.append(asyncio.create_task(inbox.turn("x", lambda n=n: work(n))))
    assert verdicts == ["take"] * 3 + ["warn"] + ["drop"] * 4
    assert inbox.admit("y") == "take"  # another chat is not slowed
    release.set()
    await asyncio.gather(*tasks)
    assert answered == [0, 1, 2]  # in order
    assert inbox.admit("x") == "take"  # the queue drained: heard again, and warned again if it floods


async def test_each_kind_of_incoming_becomes_one_message(app):
    assert await message_for(app, Incoming("telegram:1", text="  dạ có ")) == ("dạ có", None)
    assert await message_for(app, Incoming("telegram:1", payload="/greet")) == ("/greet", None)
    located, _ = await message_for(app, Incoming("telegram:1", location=(16.4637, 107.5909)))
    assert located == '/inform{"lat": "16.463700", "long": "107.590900"}'
    phone, _ = await message_for(app, Incoming("telegram:1", contact="+84 905 123 456"))
    assert json.loads(phone.removeprefix("/inform")) == {"phone": "0905123456"}
    photo, _ = await message_for(app, Incoming("telegram:1", photo=PNG))
    url = json.loads(photo.removeprefix("/inform"))["photo_url"]
    assert url.startswith("http://chat.example/uploads/") and url.endswith(".png")


@pytest.mark.parametrize("incoming, status", [
    (Incoming("zalo:1", text=""), 400), (Incoming("zalo:1", text="x" * 4001), 400),
    (Incoming("zalo:1", photo=b"%PDF-1.4 not a photo"), 415), (Incoming("zalo:1", photo=PNG + b"\0" * 9_000_000), 413),
    (Incoming("zalo:1", contact="12"), 422), (Incoming("zalo:1", voice=b"\0" * 1000), 422),
])
async def test_what_cannot_be_taken_is_refused_politely(app, incoming, status):
    with pytest.raises(Refused) as refused:
        await message_for(app, incoming)
    assert refused.value.status == status and refused.value.message.startswith("Dạ")


def test_asks_that_a_chat_app_answers_with_one_tap():
    assert asks_location("Dạ, việc đó ở chỗ mô ạ? … hoặc bấm “📍 Gửi vị trí” ạ.")
    assert asks_phone("Bác cho cháu xin số điện thoại để cán bộ gọi lại khi cần ạ.")
    assert not asks_phone("Dạ, cháu đọc lại: • Số điện thoại: 0905 123 456")


def test_telegram_keyboards():
    choices = {"text": "Gửi phản ánh này nhé bác?", "buttons": [{"title": "Gửi đi", "payload": "/affirm"},
                                                               {"title": "Sửa lại", "payload": "/deny"}]}
    big = keyboard(choices, last=True).to_dict()
    assert big["keyboard"] == [[{"text": "Gửi đi"}], [{"text": "Sửa lại"}]] and big["resize_keyboard"]
    # Choices on an earlier message of the answer belong to it: inline, carrying the payload (or the title when
    # the payload is over Telegram's 64 bytes).
    long_payload = {"title": "Bệnh viện Trung ương Huế", "payload": "/inform" + json.dumps({"facility": "x" * 80})}
    inline = keyboard({"text": "Chọn", "buttons": [choices["buttons"][0], long_payload]}, last=False).to_dict()
    assert [row[0]["callback_data"] for row in inline["inline_keyboard"]] == ["/affirm", "Bệnh viện Trung ương Huế"]
    assert keyboard({"text": "Dạ."}, last=False) is None
    # A last message without choices still offers a person and a repeat, and stays.
    plain = keyboard({"text": "Dạ, bác tả ngắn giúp cháu sự việc ạ."}, last=True).to_dict()
    assert plain["keyboard"] == [[{"text": "Nói lại"}, {"text": "Gặp cán bộ"}]] and plain["is_persistent"]



async def test_the_gateway_serves_while_telegram_cannot_be_reached(aiohttp_client, tmp_path):
    nobody = f"http://127.0.0.1:{free_port()}"
    settings = Settings.from_env({"TROLYHUE_VAR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9",
                                  "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_API_BASE_URL": nobody + "/bot",
                                  "TELEGRAM_WEBHOOK_URL": "https://chat.example/telegram/hook"})
    client = await aiohttp_client(make_app(settings))
    assert (await client.get("/health")).status == 200
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    secret = {"X-Telegram-Bot-Api-Secret-Token": settings.telegram.webhook_secret}
    assert (await client.post("/telegram/hook", json=update, headers=secret)).status == 503  # asked again later
    assert (await client.post("/telegram/hook", json=update)).status == 403
