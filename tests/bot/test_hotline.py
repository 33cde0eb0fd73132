"""The hotline's provider-facing parts on their own: signatures, the voice webhook's TwiML, spoken choices.

Whole calls over the WebSocket are in tests/e2e/test_hotline.py.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import xml.etree.ElementTree as ET
from datetime import timedelta

import aiohttp
import pytest

from bot.app import make_app
from bot.context import SPEAKER
from bot.hotline import MAX_STREAM_MESSAGE, lines_busy, signature_ok, spoken
from bot.settings import Settings
from common import clock
from tests.phone import sign

TOKEN = "12345"
PUBLIC = "https://hue.example"


@pytest.fixture
async def gateway(aiohttp_client, tmp_path):
    settings = Settings.from_env({"TROLYHUE_VAR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9",
                                  "GTTS_ENABLED": "0", "HOTLINE_AUTH_TOKEN": TOKEN, "GATEWAY_PUBLIC_URL": PUBLIC})
    return await aiohttp_client(make_app(settings))


def test_the_signature_is_twilios():
    # A real voice webhook request and its signature, from the test suite of Twilio's own Ruby library.
    url = "http://twiliotests.heroku.com/validate/voice"
    params = {"ToState": "California", "CalledState": "California", "Direction": "inbound", "FromState": "CA",
              "AccountSid": "ACba8bc05eacf94afdae398e642c9cc32d", "Caller": "+14153595711", "CallerZip": "94108",
              "CallerCountry": "US", "From": "+14153595711", "FromCity": "SAN FRANCISCO",
              "CallerCity": "SAN FRANCISCO", "To": "+14157669926", "FromZip": "94108", "FromCountry": "US",
              "ToCity": "", "CallStatus": "ringing", "CalledCity": "", "CallerState": "CA", "CalledZip": "",
              "ToZip": "", "ToCountry": "US", "CallSid": "CA136d09cd59a3c0ec8dbff44da5c03f31",
              "CalledCountry": "US", "Called": "+14157669926", "ApiVersion": "2010-04-01",
              "ApplicationSid": "AP44efecad51364e80b133bb7c07eb8204"}
    token, signature = "2bd9e9638872de601313dc77410d3b23", "oVb2kXoVy8GEfwBDjR8bk/ZZ6eA="
    assert signature_ok(token, url, signature, params)
    assert not signature_ok(token, url, signature, {**params, "From": "+14153595712"})
    assert not signature_ok(TOKEN, url, signature, params)


async def _webhook(gateway, form: dict, signed_form: dict | None = None):
    url = PUBLIC + "/hotline/voice"
    signature = sign(TOKEN, url, form if signed_form is None else signed_form)
    return await gateway.post("/hotline/voice", data=form, headers={"X-Twilio-Signature": signature})


async def _stream_path(gateway, call_sid: str = "CA1", caller: str = "+84905123456") -> str:
    response = await _webhook(gateway, {"CallSid": call_sid, "From": caller, "To": "+842343822222"})
    assert response.status == 200 and response.content_type == "text/xml"
    url = ET.fromstring(await response.text()).find("Connect/Stream").get("url")
    assert url.startswith("wss://hue.example/hotline/")
    return url.removeprefix("wss://hue.example")


def _signed(path: str) -> dict:
    return {"X-Twilio-Signature": sign(TOKEN, "wss://hue.example" + path)}


async def test_the_voice_webhook_gives_each_call_its_own_stream_url(gateway):
    first, second = await _stream_path(gateway, "CA1"), await _stream_path(gateway, "CA2")
    assert first != second
    form = {"CallSid": "CA1", "From": "+84905123456", "To": "+842343822222"}
    forged = await _webhook(gateway, {**form, "From": "+84999999999"}, signed_form=form)
    assert forged.status == 403
    # Only the provider's small urlencoded form is read, and only to check its signature.
    multipart = aiohttp.FormData({**form})
    multipart.add_field("file", io.BytesIO(b"x" * 1000), filename="x.bin")
    assert (await gateway.post("/hotline/voice", data=multipart)).status == 403
    huge = await _webhook(gateway, {**form, "Junk": "x" * 100_000})
    assert huge.status == 413
    assert (await gateway.get("/health")).status == 200


async def test_a_stream_url_opens_once_with_the_signature_and_only_for_its_call(gateway, caplog):
    path = await _stream_path(gateway, "CA1", "+84905123456")
    for headers in ({}, {"X-Twilio-Signature": sign("wrong", "wss://hue.example" + path)}):
        assert (await gateway.get(path, headers={**WEBSOCKET, **headers})).status == 403
    payload, _, mac = path.removeprefix("/hotline/").partition(".")
    other = base64.urlsafe_b64encode(json.dumps(["CA1", "+84999999999", 2**40]).encode()).decode().rstrip("=")
    forged = f"/hotline/{other}.{mac}"
    assert (await gateway.get(forged, headers={**WEBSOCKET, **_signed(forged)})).status == 403
    with caplog.at_level(logging.INFO, logger="bot.hotline"):
        async with gateway.ws_connect(path, headers=_signed(path)) as ws:
            # The provider's start message says who calls only as the URL does: its own words don't count.
            await ws.send_json(_start("CA1", caller="+84999999999"))
            assert (await ws.receive_json(timeout=30))["event"] == "media"  # the greeting (Rasa is down: "bận")
    assert any("caller 849******56" in m for m in caplog.messages)
    assert not any("99999" in m for m in caplog.messages)
    assert (await gateway.get(path, headers={**WEBSOCKET, **_signed(path)})).status == 403  # replayed
    assert (await gateway.get("/health")).status == 200


async def test_messages_outside_the_protocol_are_ignored_and_the_call_goes_on(gateway):
    path = await _stream_path(gateway, "CA1")
    async with gateway.ws_connect(path, headers=_signed(path)) as ws:
        for junk in ("[1, 2]", '"start"', "{not json", '{"event": "start", "start": "CA1"}',
                     '{"event": "media", "media": {"payload": "%%%"}}', '{"event": "dtmf", "dtmf": 5}'):
            await ws.send_str(junk)
        await ws.send_json(_start("CA1"))
        await ws.send_json({"event": "media", "streamSid": "MZ1", "media": {"payload": "!!not base64!!"}})
        assert (await ws.receive_json(timeout=30))["event"] == "media"  # greeted all the same
        await ws.send_str("x" * (MAX_STREAM_MESSAGE + 1))  # too big: the provider never sends that
        while (message := await ws.receive(timeout=10)).type == aiohttp.WSMsgType.TEXT:
            pass  # the rest of the greeting
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert (await gateway.get("/health")).status == 200


async def test_a_stream_for_another_call_or_too_late_is_refused(gateway, clock_at):
    path = await _stream_path(gateway, "CA1")
    async with gateway.ws_connect(path, headers=_signed(path)) as ws:
        await ws.send_json(_start("CA-someone-else"))
        assert (await ws.receive(timeout=10)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    late = await _stream_path(gateway, "CA2")
    clock_at(clock.now() + timedelta(seconds=61))
    assert (await gateway.get(late, headers={**WEBSOCKET, **_signed(late)})).status == 403


WEBSOCKET = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": base64.b64encode(b"0123456789abcdef").decode()}


def _start(call_sid: str, caller: str | None = None) -> dict:
    return {"event": "start", "streamSid": "MZ1",
            "start": {"streamSid": "MZ1", "callSid": call_sid,
                      "customParameters": {"from": caller} if caller else {},
                      "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}


def test_choices_are_read_out_with_their_keys():
    said = spoken([{"text": "Gửi phản ánh này nhé bác?",
                    "buttons": [{"title": "Gửi đi", "payload": "/affirm"}, {"title": "Sửa lại", "payload": "/deny"}]}])
    assert said == ["Gửi phản ánh này nhé bác?",
                    "Bác nói, hoặc bấm phím 1: Gửi đi; phím 2: Sửa lại. Phím 0 để gặp cán bộ ạ."]
    assert spoken([{"text": "Dạ.", "buttons": []}]) == ["Dạ."]


async def _heard(ws) -> tuple[bytes, list[str]]:
    """The audio played until the first mark, and that mark's name."""
    audio = b""
    while (event := await ws.receive_json(timeout=30))["event"] == "media":
        audio += base64.b64decode(event["media"]["payload"])
    assert event["event"] == "mark"
    return audio, event["mark"]["name"]


async def test_a_caller_beyond_the_lines_hears_they_are_busy_and_the_number_then_the_line_closes(tmp_path,
                                                                                                aiohttp_client):
    settings = Settings.from_env({"TROLYHUE_VAR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9",
                                  "GTTS_ENABLED": "0", "HOTLINE_AUTH_TOKEN": TOKEN, "GATEWAY_PUBLIC_URL": PUBLIC,
                                  "HOTLINE_MAX_CALLS": "1", "HOTLINE_CALLBACK_NUMBER": "0234 3822 222"})
    app = make_app(settings)
    gateway = await aiohttp_client(app)
    busy = lines_busy(settings)
    assert "gọi tổng đài không hai ba bốn, ba tám hai hai, hai hai hai ạ" in busy
    busy_audio = app[SPEAKER].speak(busy, "mulaw")
    assert busy_audio.cached  # made when the gateway started, before anyone needed it
    first = await _stream_path(gateway, "CA1")
    async with gateway.ws_connect(first, headers=_signed(first)) as answered:
        await answered.send_json(_start("CA1"))
        assert (await _heard(answered))[0] != busy_audio.audio  # the assistant answers it
        second = await _stream_path(gateway, "CA2")
        async with gateway.ws_connect(second, headers=_signed(second)) as turned_away:
            await turned_away.send_json(_start("CA2"))
            audio, mark = await _heard(turned_away)
            assert audio == busy_audio.audio
            await turned_away.send_json({"event": "mark", "streamSid": "MZ1", "mark": {"name": mark}})  # played
            assert (await turned_away.receive(timeout=10)).type in (aiohttp.WSMsgType.CLOSE,
                                                                    aiohttp.WSMsgType.CLOSED)
        await answered.send_json({"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": "*"}})
        assert (await answered.receive_json(timeout=30))["event"] in ("media", "mark")  # still served
    metrics = await (await gateway.get("/metrics")).text()
    assert "hotline_calls_turned_away_total 1.0" in metrics
    third = await _stream_path(gateway, "CA3")  # the first caller hung up: a line is free again
    async with gateway.ws_connect(third, headers=_signed(third)) as ws:
        await ws.send_json(_start("CA3"))
        assert (await _heard(ws))[0] != busy_audio.audio
