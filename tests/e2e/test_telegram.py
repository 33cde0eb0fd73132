"""Telegram: the real python-telegram-bot in the stack's gateway, long polling a Bot API emulator on loopback
(npm telegram-test-api), through Rasa, the actions and cityapi."""
from __future__ import annotations

import itertools
import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from common.text import fold
from tests.conftest import API_KEY, free_port, wait_for
from tests.e2e.conftest import TELEGRAM_TOKEN
from tests.e2e.test_conversations import BOOKING, CASE_ID, get_json
from tests.telegram.emulator import Citizen, keyboard_of, text_of
from voice.asr import load_recognizer
from voice.codecs import SAMPLE_RATE, decode, encode
from voice.settings import VoiceSettings
from voice.tts import Espeak

ROOT = Path(__file__).resolve().parents[2]
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
HUE = {"latitude": 16.4637, "longitude": 107.5909}
_ids = itertools.count(int(time.time()) % 100000 * 100)


def citizen(telegram, token: str = TELEGRAM_TOKEN) -> Citizen:
    return Citizen(telegram, token, next(_ids))


def titles(messages: list[dict]) -> list[str]:
    return [button["text"] for button in keyboard_of(messages)]


def recognise(audio: bytes) -> str:
    return fold(load_recognizer(VoiceSettings()).transcribe(decode(audio, SAMPLE_RATE), SAMPLE_RATE).text)


def voice_note(text: str) -> bytes:
    """Vietnamese speech as a phone's voice note: OGG/Opus."""
    return encode(decode(Espeak("vi", 130).synthesize(text), SAMPLE_RATE), SAMPLE_RATE, "ogg")


def test_a_report_with_a_shared_location_a_photo_and_the_citizens_own_number(stack, telegram):
    lan = citizen(telegram)
    lan.send(text="/start")
    assert "Phản ánh sự việc" in titles(lan.answer())
    assert "việc chi" in lan.say("Phản ánh sự việc")  # a reply-keyboard tap arrives as its title
    lan.send(text="Ổ gà, đường hư")
    asked = lan.answer()
    assert "chỗ mô" in text_of(asked)
    assert keyboard_of(asked)[0] == {"text": "📍 Gửi vị trí", "request_location": True}
    lan.send(location=HUE)
    assert "tả ngắn" in text_of(lan.answer())
    assert "ảnh" in lan.say("ổ gà to giữa đường kiệt 5")
    photo = telegram.put_file(PNG)
    lan.send(photo=[{**photo, "width": 1, "height": 1}])
    asked = lan.answer()
    assert "số điện thoại" in text_of(asked)
    assert {"text": "📞 Gửi số điện thoại", "request_contact": True} in keyboard_of(asked)
    lan.send(contact={"phone_number": "+84905123456", "first_name": "Lan", "user_id": lan.id})
    summary = text_of(lan.answer())
    assert "Gửi phản ánh này nhé bác?" in summary and "0905 123 456" in summary
    case_id = CASE_ID.search(lan.say("Gửi đi")).group()

    report = get_json(f"{stack.city}/open311/v2/requests/{case_id}.json")[0]
    assert (report["lat"], report["long"]) == pytest.approx((HUE["latitude"], HUE["longitude"]), abs=1e-5)
    assert report["description"] == "ổ gà to giữa đường kiệt 5"
    with urllib.request.urlopen(report["media_url"].replace(stack.env.get("GATEWAY_PUBLIC_URL", stack.gateway),
                                                            stack.gateway), timeout=10) as served:
        assert served.read() == PNG
    # The status, asked later; and "my reports" are this Telegram chat's alone.
    assert case_id in lan.say(f"phản ánh {case_id} tới đâu rồi")
    read_back = " ".join(["PA", case_id[3:7], case_id[8:11], case_id[11:]])  # "PA 2026 000 123"
    assert read_back in lan.say("phản ánh của tui")
    assert read_back not in citizen(telegram).say("phản ánh của tui")


def test_a_booking_and_its_cancelling_by_tapping_big_buttons(stack, telegram):
    hoa = citizen(telegram)
    hoa.say("/start")
    hoa.press("Đặt lịch khám")
    hoa.press("Trung ương Huế")
    hoa.press("Tim mạch")
    hoa.say(titles(hoa.last)[0])  # the first day with free slots
    assert "họ tên" in hoa.say(titles(hoa.last)[0])  # its earliest free time
    assert "số điện thoại" in hoa.say("Nguyễn Thị Hoa")
    assert "Đặt lịch này nhé bác?" in hoa.say("0905 222 333")
    code = BOOKING.search(hoa.press("Đặt lịch")).group()
    appointment = get_json(f"{stack.city}/fhir/R4/Appointment/{code}", {"Authorization": f"Bearer {API_KEY}"})
    slot_url = f"{stack.city}/fhir/R4/{appointment['slot'][0]['reference']}"
    assert get_json(slot_url)["status"] == "busy"
    hoa.say("Hủy lịch khám")
    hoa.press("Tim mạch")
    assert code in hoa.press("Hủy lịch")
    assert get_json(slot_url)["status"] == "free"


def test_an_inline_button_tap_and_the_commands(stack, telegram):
    ba = citizen(telegram)
    ba.tap("/help")
    assert "giúp được bác" in text_of(ba.answer())
    assert "giúp được bác" in ba.say("/help")
    assert "cán bộ" in ba.say("/nguoithat")
    assert "giúp được bác" in ba.say('/inform{"photo_url": "http://evil.example/x.png"}')  # no payloads typed


def test_a_voice_note_is_recognised_and_answered_in_text_and_voice(stack, telegram):
    minh = citizen(telegram)
    note = telegram.put_file(voice_note("tôi muốn đặt lịch khám"))
    minh.send(voice={**note, "duration": 2, "mime_type": "audio/ogg"})
    answer = minh.answer(voice=True)
    said = text_of(answer)
    assert "khám ở mô" in said
    spoken = next(m["voice"] for m in answer if "voice" in m)
    audio = telegram.file(spoken["file_id"])
    assert audio[:4] == b"OggS" and len(audio) < 1024 * 1024
    pcm = decode(audio, SAMPLE_RATE)
    assert 2 * SAMPLE_RATE < len(pcm) < 60 * SAMPLE_RATE
    # Synthetic speech is recognised only roughly (tests/voice): the note holds speech, of about the answer's length.
    assert len(recognise(audio).split()) >= len(said.split()) // 4


def test_spoken_replies_can_be_turned_on_for_typed_messages(stack, telegram):
    an = citizen(telegram)
    assert "giọng nói" in an.say("/giongnoi")
    an.send(text="/help")
    assert any("voice" in m for m in an.answer(voice=True))
    assert "bật lại" in an.say("/giongnoi")
    an.say("/help")
    time.sleep(1.5)
    assert not any("voice" in m for m in an.last + an.poll())


@pytest.mark.parametrize("message, expected", [
    ({"sticker": {"file_id": "x", "file_unique_id": "x", "width": 1, "height": 1, "is_animated": False,
                  "is_video": False, "type": "regular"}}, "chỉ đọc được"),
    ({"document": {"file_id": "x", "file_unique_id": "x", "file_name": "a.pdf", "mime_type": "application/pdf"}},
     "chỉ đọc được"),
    ({"text": "á" * 5000}, "dài quá"),
    ({}, "chỉ đọc được"),
    ({"contact": {"phone_number": "12", "first_name": "X"}}, "số điện thoại"),
])
def test_bad_input_gets_a_short_polite_answer(stack, telegram, message, expected):
    tuan = citizen(telegram)
    tuan.send(**message)
    answer = text_of(tuan.answer())
    assert answer.startswith("Dạ") and expected in answer
    assert "việc chi" in tuan.say("/start")  # and the assistant still answers


def test_ten_megabytes_of_noise_as_a_voice_note(stack, telegram):
    vy = citizen(telegram)
    noise = telegram.put_file(np.random.default_rng(7).bytes(10 * 1024 * 1024))
    vy.send(voice={**noise, "duration": 60})
    assert text_of(vy.answer()).startswith("Dạ")
    assert "việc chi" in vy.say("/start")


def test_a_flood_is_told_once_slowed_and_paced(stack, telegram):
    nam = citizen(telegram)
    for n in range(15):
        nam.send(text=f"chào {n}")
    time.sleep(8)
    got = nam.poll()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(got) < 6:
        time.sleep(1)
        got += nam.poll()
    texts = [m.get("text", "") for m in nam.received]
    assert sum("gửi nhanh quá" in t for t in texts) == 1, texts
    assert len(texts) < 15 * 2  # the extra messages were dropped, not answered
    assert "việc chi" in nam.say("/start")
    # The emulator stamps each message it receives (ms): never two to this chat closer than the pace allows.
    stamps = sorted(update["time"] for update in _history(telegram, nam))
    assert min(b - a for a, b in zip(stamps, stamps[1:])) >= 300 - 20


def _history(telegram, person: Citizen) -> list[dict]:
    body = json.dumps({"token": person.token}).encode()
    request = urllib.request.Request(f"{telegram.url}/getUpdatesHistory", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        history = json.loads(response.read())["result"]
    return [u for u in history if str((u.get("message") or {}).get("chat_id")) == str(person.id)
            and "from" not in u["message"]]


@pytest.fixture(scope="module")
def webhook_gateway(stack, telegram, tmp_path_factory):
    """A second gateway in webhook mode, its own bot, on the same Rasa."""
    port = free_port()
    token = "515151:e2e-webhook"
    env = {**stack.env, "RASA_URL": stack.rasa, "TROLYHUE_VAR": str(tmp_path_factory.mktemp("webhook")),
           "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/hook",
           "TELEGRAM_WEBHOOK_SECRET": "right-secret", "ZALO_APP_ID": ""}
    log = (stack.var / "webhook-gateway.log").open("ab")
    process = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "bot", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_for(f"http://127.0.0.1:{port}/health", process, "the webhook gateway (webhook-gateway.log)")
    time.sleep(1)  # set_webhook happens at start-up
    yield token, f"http://127.0.0.1:{port}/telegram/hook"
    process.terminate()
    process.wait(timeout=20)


def test_webhook_mode_takes_updates_with_the_right_secret_only(webhook_gateway, telegram):
    token, url = webhook_gateway
    lan = citizen(telegram, token)
    assert "việc chi" in lan.say("/start")  # posted by the emulator with the secret set_webhook gave it

    forged = {"update_id": 99, "message": {"message_id": 5, "date": int(time.time()), "text": "/start",
                                           "chat": {"id": lan.id, "type": "private"},
                                           "from": {"id": lan.id, "is_bot": False, "first_name": "X"}}}
    for secret in ("wrong-secret", None):
        headers = {"Content-Type": "application/json", **({"X-Telegram-Bot-Api-Secret-Token": secret}
                                                          if secret else {})}
        request = urllib.request.Request(url, json.dumps(forged).encode(), headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
    time.sleep(2)
    assert lan.poll() == []  # nothing was answered


def test_the_bot_token_never_reaches_the_log(stack, telegram):
    citizen(telegram).say("/start")
    log = (stack.var / "stack.log").read_text(errors="replace")
    assert TELEGRAM_TOKEN.split(":")[1] not in log
    assert "getUpdates" not in log  # each long poll is not an INFO line
