"""The gateway's own behaviour: its page, input checks and photo uploads (chats are in tests/e2e)."""
from __future__ import annotations

import io

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
    for asset in ("chat.js", "chat.css"):
        assert (await gateway.get(f"/static/{asset}")).status == 200


@pytest.mark.parametrize("body", [{"sender": "telegram:1", "text": "chào"}, {"sender": "web-abc", "text": "x"},
                                  {"sender": "web-0123456789", "text": ""},
                                  {"sender": "web-0123456789", "text": "x" * 4001}])
async def test_bad_messages_get_a_polite_vietnamese_error(gateway, body):
    response = await gateway.post("/api/chat", json=body)
    assert response.status == 400
    assert (await response.json())["error"].startswith("Dạ,")


async def test_rasa_down_is_a_polite_503(gateway):
    response = await gateway.post("/api/chat", json={"sender": "web-0123456789", "text": "chào"})
    assert response.status == 503
    assert "thử lại" in (await response.json())["error"]


async def test_a_photo_is_kept_and_served(gateway):
    form = aiohttp.FormData()
    form.add_field("photo", io.BytesIO(PNG), filename="o-ga.png", content_type="image/png")
    response = await gateway.post("/api/upload", data=form)
    assert response.status == 200
    url = (await response.json())["url"]
    assert url.startswith("http://chat.example/uploads/") and url.endswith(".png")
    served = await gateway.get(url.removeprefix("http://chat.example"))
    assert served.status == 200 and await served.read() == PNG


@pytest.mark.parametrize("content, status", [(b"not an image at all", 415), (PNG + b"\0" * (8 * 1024 * 1024), 413)])
async def test_not_a_photo_or_too_big(gateway, content, status):
    form = aiohttp.FormData()
    form.add_field("photo", io.BytesIO(content), filename="x.png", content_type="image/png")
    response = await gateway.post("/api/upload", data=form)
    assert response.status == status
    assert (await response.json())["error"].startswith("Dạ,")
