"""The gateway's voice endpoints on their own: refusals are polite, only the assistant's replies are spoken."""
from __future__ import annotations

import io

import aiohttp
import numpy as np
import pytest

from bot.app import make_app
from bot.context import MEMORY
from bot.replies import text_key
from bot.settings import Settings
from voice.codecs import SAMPLE_RATE, decode, encode

SENDER = "web-0123456789"


@pytest.fixture
async def gateway(aiohttp_client, tmp_path):
    settings = Settings.from_env({"TROLYHUE_VAR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9",
                                  "GTTS_ENABLED": "0", "VOICE_MAX_SECONDS": "5"})
    return await aiohttp_client(make_app(settings))


def recording(data: bytes, sender: str = SENDER) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("sender", sender)
    form.add_field("audio", io.BytesIO(data), filename="voice.webm", content_type="audio/webm")
    return form


def tone(seconds: float, level: float = 0.3) -> bytes:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return encode((np.sin(2 * np.pi * 440 * t) * 32767 * level).astype(np.int16), SAMPLE_RATE, "ogg")


@pytest.mark.parametrize(("data", "status", "reason"), [
    (b"", 422, "empty"),
    (b"not audio at all" * 10, 422, "corrupt"),
    (tone(2, level=0.0), 422, "silent"),
    (tone(6), 422, "too_long"),
])
async def test_unusable_recordings_get_a_polite_reason(gateway, data, status, reason):
    response = await gateway.post("/api/voice", data=recording(data))
    body = await response.json()
    assert response.status == status and body["reason"] == reason
    assert body["error"].startswith("Dạ,")


async def test_a_tone_is_heard_as_nothing_and_asks_to_repeat(gateway):
    response = await gateway.post("/api/voice", data=recording(tone(2)))
    body = await response.json()
    assert response.status == 422 and body["reason"] == "unheard" and "nói lại" in body["error"]


async def test_a_recording_needs_a_valid_sender(gateway):
    response = await gateway.post("/api/voice", data=recording(tone(1), sender="telegram:1"))
    assert response.status == 400


async def test_only_the_assistants_own_replies_are_spoken(gateway):
    unknown = await gateway.get(f"/api/speech/{text_key('bất kỳ câu nào')}.mp3")
    assert unknown.status == 404
    text = "Dạ, cháu chào bác ạ."
    await gateway.app[MEMORY].remember(SENDER, [{"text": text, "buttons": []}])
    for fmt, kind in (("mp3", "audio/mpeg"), ("ogg", "audio/ogg")):
        spoken = await gateway.get(f"/api/speech/{text_key(text)}.{fmt}")
        assert spoken.status == 200 and spoken.content_type == kind
        assert len(decode(await spoken.read())) > SAMPLE_RATE  # over a second of speech
    assert (await gateway.get(f"/api/speech/{text_key(text)}.mulaw")).status == 404


async def test_a_browser_keeps_only_the_fixed_answers(gateway):
    fixed = "Dạ, cháu giữ nguyên thông tin của bác ạ."  # utter_not_forgotten, the same for everyone
    personal = "Dạ, cháu đặt lịch cho bác Nguyễn Thị Lan, số điện thoại 0905 123 456 nghe."
    await gateway.app[MEMORY].remember(SENDER, [{"text": fixed, "buttons": []}, {"text": personal, "buttons": []}])
    kept = await gateway.get(f"/api/speech/{text_key(fixed)}.mp3")
    assert kept.headers["Cache-Control"] == "private, max-age=86400"
    not_kept = await gateway.get(f"/api/speech/{text_key(personal)}.mp3")
    assert not_kept.status == 200 and not_kept.headers["Cache-Control"] == "no-store"
