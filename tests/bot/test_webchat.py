"""The gateway's own behaviour: its page, input checks and photo uploads (chats are in tests/e2e)."""
from __future__ import annotations

import io
import re
import shutil

import aiohttp
import pytest

from bot.app import make_app
from bot.settings import Settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
async def gateway(aiohttp_client, tmp_path):
    settings = Settings.from_env({"TROLYHUE_VAR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9",
                                  "GATEWAY_PUBLIC_URL": "http://chat.example"})
    return await aiohttp_client(make_app(settings))


async def test_the_page_and_its_assets(gateway):
    page = await gateway.get("/")
    assert page.status == 200 and "Trợ lý Huế" in await page.text()
    for asset in ("chat/main.js", "chat/view.js", "chat.css"):
        assert (await gateway.get(f"/static/{asset}")).status == 200


@pytest.mark.parametrize("path", ["/", "/static/chat/main.js", "/api/chat", "/nowhere"])
async def test_every_answer_carries_the_headers_a_browser_expects(gateway, path):
    response = await gateway.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_pages_have_no_inline_script():
    from bot.webchat import STATIC

    for page in STATIC.rglob("*.html"):
        html = page.read_text()
        assert all(re.search(r"\bsrc=", tag) for tag in re.findall(r"<script\b[^>]*>", html)), page
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), page  # no onclick=… handlers either


@pytest.mark.parametrize("body", [{"sender": "telegram:1", "text": "chào"}, {"sender": "web-abc", "text": "x"},
                                  {"sender": "web-0123456789", "text": ""},
                                  {"sender": "web-0123456789", "text": "x" * 4001}])
async def test_bad_messages_get_a_polite_vietnamese_error(gateway, body):
    response = await gateway.post("/api/chat", json=body)
    assert response.status == 400
    assert (await response.json())["error"].startswith("Dạ,")


@pytest.mark.parametrize("raw", ['["web-0123456789", "chào"]', '"chào"', "42", "null", "{not json",
                                 '{"sender": ["web-0123456789"], "text": "chào"}',
                                 '{"sender": "web-0123456789", "text": {"x": 1}}'])
async def test_a_body_of_the_wrong_shape_is_refused_politely(gateway, raw):
    response = await gateway.post("/api/chat", data=raw.encode(), headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"].startswith("Dạ,")


async def test_each_route_refuses_a_body_over_its_own_limit_before_reading_it(gateway):
    big = b'{"sender": "web-0123456789", "text": "' + b"a" * 20_000 + b'"}'
    response = await gateway.post("/api/chat", data=big, headers={"Content-Type": "application/json"})
    assert response.status == 413 and (await response.json())["error"].startswith("Dạ,")

    async def chunked():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"a" * 1024

    response = await gateway.post("/api/chat", data=chunked(), headers={"Content-Type": "application/json"})
    assert response.status == 413
    form = aiohttp.FormData({"sender": "web-0123456789"})
    form.add_field("photo", io.BytesIO(PNG + b"\0" * (9 * 1024 * 1024)), filename="x.png", content_type="image/png")
    assert (await gateway.post("/api/upload", data=form)).status == 413
    voice = aiohttp.FormData({"sender": "web-0123456789"})
    voice.add_field("audio", io.BytesIO(b"\0" * (11 * 1024 * 1024)), filename="v.webm", content_type="audio/webm")
    response = await gateway.post("/api/voice", data=voice)
    assert response.status == 413 and (await response.json())["reason"] == "too_large"
    assert (await gateway.get("/health")).status == 200


async def test_rasa_down_is_a_polite_503(gateway):
    response = await gateway.post("/api/chat", json={"sender": "web-0123456789", "text": "chào"})
    assert response.status == 503
    assert "thử lại" in (await response.json())["error"]


async def test_a_photo_is_kept_and_served(gateway):
    form = aiohttp.FormData({"sender": "web-0123456789"})
    form.add_field("photo", io.BytesIO(PNG), filename="o-ga.png", content_type="image/png")
    response = await gateway.post("/api/upload", data=form)
    assert response.status == 200
    url = (await response.json())["url"]
    assert url.startswith("http://chat.example/uploads/") and url.endswith(".png")
    served = await gateway.get(url.removeprefix("http://chat.example"))
    assert served.status == 200 and await served.read() == PNG


@pytest.mark.parametrize("content, status", [(b"not an image at all", 415), (PNG + b"\0" * (8 * 1024 * 1024), 413)])
async def test_not_a_photo_or_too_big(gateway, content, status):
    form = aiohttp.FormData({"sender": "web-0123456789"})
    form.add_field("photo", io.BytesIO(content), filename="x.png", content_type="image/png")
    response = await gateway.post("/api/upload", data=form)
    assert response.status == status
    assert (await response.json())["error"].startswith("Dạ,")


async def test_a_flood_from_one_sender_is_refused_politely_before_any_work(aiohttp_client, tmp_path):
    settings = Settings.from_env({"TROLYHUE_VAR": str(tmp_path), "RASA_URL": "http://127.0.0.1:9",
                                  "GATEWAY_MESSAGES_PER_MINUTE": "2"})
    gateway = await aiohttp_client(make_app(settings))
    statuses = [(await gateway.post("/api/chat", json={"sender": "web-0123456789", "text": "chào"})).status
                for _ in range(3)]
    assert statuses == [503, 503, 429]  # Rasa is not there (503) until the limit, which comes first
    refused = await gateway.post("/api/chat", json={"sender": "web-0123456789", "text": "chào"})
    assert (await refused.json())["error"].startswith("Dạ, bác gửi nhanh quá")
    other = await gateway.post("/api/chat", json={"sender": "web-9876543210", "text": "chào"})
    assert other.status == 503  # another citizen is not slowed
    metrics = await (await gateway.get("/metrics")).text()
    assert 'gateway_turns_total{channel="web",outcome="rate_limited"}' in metrics
    assert 'gateway_turns_total{channel="web",outcome="rasa_unavailable"}' in metrics


async def test_ready_when_its_database_and_recogniser_are(gateway):
    ready = await gateway.get("/ready")
    assert ready.status == 200, await ready.text()
    assert (await ready.json())["failed"] == {}
    metrics = await (await gateway.get("/metrics")).text()
    assert "gateway_handoff_conversations" in metrics and "http_request_seconds_bucket" in metrics


async def test_with_its_database_gone_the_gateway_refuses_politely(aiohttp_client, tmp_path):
    from bot.context import DATABASE

    var = tmp_path / "var"
    settings = Settings.from_env({"TROLYHUE_VAR": str(var), "RASA_URL": "http://127.0.0.1:9"})
    gateway = await aiohttp_client(make_app(settings))
    await gateway.app[DATABASE].dispose()  # its open connections closed, the database goes away
    shutil.rmtree(var)
    response = await gateway.post("/api/chat", json={"sender": "web-0123456789", "text": "chào"})
    assert response.status == 503
    assert (await response.json())["error"].startswith("Dạ, cháu đang bận")
    assert (await gateway.get("/ready")).status == 503
