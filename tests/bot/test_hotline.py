"""The hotline's provider-facing parts on their own: signatures, the voice webhook's TwiML, spoken choices.

Whole calls over the WebSocket are in tests/e2e/test_hotline.py.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.app import make_app
from bot.hotline import signature_ok, spoken
from bot.settings import Settings
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


async def test_the_voice_webhook_connects_the_call_to_the_stream(gateway):
    form = {"CallSid": "CA1", "From": "+84905123456", "To": "+842343822222"}
    fields = "".join(name + value for name, value in sorted(form.items()))
    signed = {"X-Twilio-Signature": sign(TOKEN, PUBLIC + "/hotline/voice" + fields)}
    response = await gateway.post("/hotline/voice", data=form, headers=signed)
    assert response.status == 200 and response.content_type == "text/xml"
    stream = ET.fromstring(await response.text()).find("Connect/Stream")
    assert stream.get("url") == "wss://hue.example/hotline"
    assert stream.find("Parameter").attrib == {"name": "from", "value": "+84905123456"}
    forged = await gateway.post("/hotline/voice", data={**form, "From": "+84999999999"}, headers=signed)
    assert forged.status == 403


async def test_an_unsigned_stream_is_refused(gateway):
    response = await gateway.get("/hotline", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert response.status == 403


def test_choices_are_read_out_with_their_keys():
    said = spoken([{"text": "Gửi phản ánh này nhé bác?",
                    "buttons": [{"title": "Gửi đi", "payload": "/affirm"}, {"title": "Sửa lại", "payload": "/deny"}]}])
    assert said == ["Gửi phản ánh này nhé bác?",
                    "Bác nói, hoặc bấm phím 1: Gửi đi; phím 2: Sửa lại. Phím 0 để gặp cán bộ ạ."]
    assert spoken([{"text": "Dạ.", "buttons": []}]) == ["Dạ."]
