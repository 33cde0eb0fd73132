"""Zalo: signed events posted to the stack's webhook as Zalo posts them, replies read from the OA API server on
loopback (tests/zalo/oa_server.py), through Rasa, the actions and cityapi."""
from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from tests.e2e.conftest import ZALO_APP
from tests.e2e.test_conversations import CASE_ID, get_json
from tests.e2e.test_telegram import HUE, PNG, voice_note
from voice.codecs import SAMPLE_RATE, decode

_ids = itertools.count(int(time.time()) % 100000 * 100)


class ZaloCitizen:
    def __init__(self, stack, zalo):
        self.stack, self.zalo = stack, zalo
        self.id = f"84{next(_ids)}"
        self.seen = 0  # replies already read

    def post(self, raw: bytes, headers: dict) -> int:
        request = urllib.request.Request(f"{self.stack.gateway}/zalo/webhook", raw, headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def send(self, name: str, message: dict | None = None, **extra) -> int:
        if message is not None:
            message = {"msg_id": f"msg-{next(_ids)}", **message}
        return self.post(*self.zalo.event(name, self.id, message, **extra))

    def replies(self, settle: float = 0.8, timeout: float = 60) -> list[dict]:
        """The messages sent since the last call, once they stop coming."""
        deadline, last_change, count = time.monotonic() + timeout, time.monotonic(), self.seen
        while time.monotonic() < deadline:
            now = len(self.zalo.sent_to(self.id))
            if now != count:
                count, last_change = now, time.monotonic()
            elif count > self.seen and time.monotonic() - last_change >= settle:
                fresh = self.zalo.sent_to(self.id)[self.seen:count]
                self.seen = count
                return fresh
            time.sleep(0.1)
        raise AssertionError(f"no reply in {timeout} s")

    def say(self, text: str) -> str:
        assert self.send("user_send_text", {"text": text}) == 200
        return texts(self.replies())


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages: list[dict]) -> list[str]:
    return [b["title"] for m in messages for b in (m.get("attachment") or {}).get("payload", {}).get("buttons", [])]


def test_a_whole_report_with_a_location_and_a_photo(stack, zalo):
    mai = ZaloCitizen(stack, zalo)
    assert mai.send("follow", follower={"id": mai.id}) == 200
    greeting = mai.replies()
    assert "Trợ lý" in texts(greeting) or "trợ lý" in texts(greeting)
    assert "Phản ánh sự việc" in buttons(greeting)
    asked = mai.say("Phản ánh sự việc")  # a button sends its title
    assert "1. Rác thải" in asked and "nhắn số" in asked  # more than five choices: numbered
    assert "chỗ mô" in mai.say("2")
    assert mai.send("user_send_location", {"attachments": [{"type": "location", "payload": {"coordinates": {
        "latitude": str(HUE["latitude"]), "longitude": str(HUE["longitude"])}}}]}) == 200
    assert "tả ngắn" in texts(mai.replies())
    assert "ảnh" in mai.say("ổ gà sâu trước chợ")
    url = zalo.host(PNG, f"{mai.id}.png")
    mai.send("user_send_image", {"attachments": [{"type": "image", "payload": {"url": url, "thumbnail": url}}]})
    assert "số điện thoại" in texts(mai.replies())
    assert "Gửi phản ánh này nhé bác?" in mai.say("0905 123 456")
    case_id = CASE_ID.search(mai.say("Gửi đi")).group()
    report = get_json(f"{stack.city}/open311/v2/requests/{case_id}.json")[0]
    assert report["service_code"] == "duong_hu_hong"
    assert (report["lat"], report["long"]) == pytest.approx((HUE["latitude"], HUE["longitude"]), abs=1e-5)
    with urllib.request.urlopen(report["media_url"], timeout=10) as served:
        assert served.read() == PNG
    # Each reply to a message named it (Zalo counts it as a reply); only the greeting answered a follow.
    recipients = [s["recipient"] for s in zalo.sent if s["recipient"]["user_id"] == mai.id]
    assert all(r.get("message_id") for r in recipients[len(greeting):]) and len(recipients) > len(greeting)


def test_a_location_in_the_other_shape(stack, zalo):
    an = ZaloCitizen(stack, zalo)
    an.say("tui muốn phản ánh rác")
    an.send("user_send_location", {"attachments": [{"type": "location", "payload": {
        "lat": HUE["latitude"], "long": HUE["longitude"]}}]})
    assert "tả ngắn" in texts(an.replies())


def test_a_voice_note_is_answered_in_text_and_as_audio(stack, zalo):
    binh = ZaloCitizen(stack, zalo)
    url = zalo.host(voice_note("tôi muốn đặt lịch khám"), f"{binh.id}.ogg")
    binh.send("user_send_audio", {"attachments": [{"type": "audio", "payload": {"url": url}}]})
    replies = binh.replies()
    assert "khám ở mô" in texts(replies)
    token = next(m["attachment"]["payload"]["token"] for m in replies if (m.get("attachment") or {}).get("type")
                 == "file")
    upload = next(u for u in zalo.uploads if u.get("token") == token)
    assert upload["filename"].endswith(".mp3") and len(decode(upload["data"], SAMPLE_RATE)) > SAMPLE_RATE


def test_signature_age_and_duplicates(stack, zalo):
    chi = ZaloCitizen(stack, zalo)
    raw, headers = zalo.event("user_send_text", chi.id, {"msg_id": "dup-" + chi.id, "text": "/help"})
    assert chi.post(raw, {**headers, "X-ZEvent-Signature": "mac=" + "0" * 64}) == 403
    assert chi.post(raw, {"Content-Type": "application/json"}) == 403
    assert chi.post(raw.replace(b"/help", b"/stop"), headers) == 403  # the body changed after signing
    stale = zalo.event("user_send_text", chi.id, {"msg_id": "old-" + chi.id, "text": "/help"},
                       timestamp_ms=int((time.time() - 3600) * 1000))
    assert chi.post(*stale) == 403
    time.sleep(2)
    assert zalo.sent_to(chi.id) == []  # none of those was carried out
    assert chi.post(raw, headers) == 200
    first = chi.replies()
    assert chi.post(raw, headers) == 200  # Zalo's retry: taken once
    time.sleep(3)
    assert len(zalo.sent_to(chi.id)) == len(first)


@pytest.mark.parametrize("name, message, expected", [
    ("user_send_sticker", {"attachments": [{"type": "sticker", "payload": {"id": "1", "url": "https://x/s"}}]},
     "chỉ đọc được"),
    ("user_send_file", {"attachments": [{"type": "file", "payload": {"url": "https://x/a.pdf", "type": "pdf"}}]},
     "chỉ đọc được"),
    ("user_send_text", {"text": "á" * 5000}, "dài quá"),
    ("user_send_text", {"text": "   "}, "trống"),
    ("user_send_gif", {}, "chỉ đọc được"),
])
def test_bad_input_gets_a_short_polite_answer(stack, zalo, name, message, expected):
    dung = ZaloCitizen(stack, zalo)
    assert dung.send(name, message) == 200
    answer = texts(dung.replies())
    assert answer.startswith("Dạ") and expected in answer
    assert "giúp được bác" in dung.say("/help")


def test_ten_megabytes_of_noise_as_a_voice_note(stack, zalo):
    em = ZaloCitizen(stack, zalo)
    url = zalo.host(np.random.default_rng(9).bytes(10 * 1024 * 1024), f"{em.id}.aac")
    em.send("user_send_audio", {"attachments": [{"type": "audio", "payload": {"url": url}}]})
    assert texts(em.replies()).startswith("Dạ")
    assert "giúp được bác" in em.say("/help")


def test_an_expired_token_is_renewed_and_the_new_pair_kept(stack, zalo):
    giang = ZaloCitizen(stack, zalo)
    before = zalo.refreshes
    zalo.expire_access_token()
    assert "giúp được bác" in giang.say("/help")  # refused with -216, renewed, sent
    assert zalo.refreshes == before + 1
    database = stack.var / "gateway.sqlite3"  # shared by every gateway (PostgreSQL at scale)
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT access_token, refresh_token FROM zalo_tokens WHERE name = 'oa'").fetchone()
    assert stored == (zalo.access, zalo.refresh)
    assert database.stat().st_mode & 0o077 == 0


def test_an_event_signed_for_another_app_is_refused(stack, zalo):
    hai = ZaloCitizen(stack, zalo)
    stamp = str(int(time.time() * 1000))
    raw = json.dumps({"app_id": "999", "event_name": "user_send_text", "timestamp": stamp, "sender": {"id": hai.id},
                      "message": {"msg_id": "x-" + hai.id, "text": "/help"}}).encode()
    mac = hashlib.sha256(b"999" + raw + stamp.encode() + ZALO_APP["ZALO_OA_SECRET"].encode()).hexdigest()
    assert hai.post(raw, {"Content-Type": "application/json", "X-ZEvent-Signature": "mac=" + mac}) == 403
