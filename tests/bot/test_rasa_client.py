"""The gateway's Rasa client: a Rasa (or the action server behind it) that stops answering costs citizens a polite
"busy", never a pile of requests without bound."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot.rasa import RasaClient, RasaUnavailable


@pytest.fixture
async def stuck_rasa(aiohttp_server):
    """Accepts each turn and answers only when told to: a Rasa waiting on a frozen action server."""
    release, arrived = asyncio.Event(), []

    async def webhook(request: web.Request) -> web.Response:
        arrived.append((await request.json())["sender"])
        await release.wait()
        return web.json_response([{"text": "Dạ."}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    yield str(server.make_url("")).rstrip("/"), release, arrived
    release.set()


async def test_turns_beyond_the_bound_are_refused_and_the_bound_frees_as_rasa_answers(stuck_rasa):
    url, release, arrived = stuck_rasa
    client = RasaClient(url, timeout=30, in_flight=2, queue_wait=0.3)
    waiting = [asyncio.create_task(client.send(f"web-{i}", "chào")) for i in range(2)]
    await asyncio.sleep(0.1)
    with pytest.raises(RasaUnavailable, match="too many turns"):
        await client.send("web-3", "chào")
    assert sorted(arrived) == ["web-0", "web-1"]  # the third never reached Rasa
    release.set()
    assert [await turn for turn in waiting] == [[{"text": "Dạ.", "buttons": []}]] * 2
    assert await client.send("web-4", "chào") == [{"text": "Dạ.", "buttons": []}]
    await client.close()
