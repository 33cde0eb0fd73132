"""What gateways share through Redis at scale, and keep in their process on the embedded default: live events
(bot/bus.py) and each sender's rate limit (bot/limits.py). A real redis-server."""
from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from bot.bus import LocalBus, RedisBus
from bot.limits import RateLimit
from bot.settings import Settings
from tests.conftest import free_port


def client(port: int) -> redis.asyncio.Redis:
    """As the gateway makes it (bot/settings.py)."""
    return Settings.from_env({"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port)}).redis_client()


class Clock:
    def __init__(self, now: float = 1_000_020.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("shared", [False, True])
async def test_a_sender_is_slowed_after_the_limit_and_served_again_a_minute_later(shared, request):
    clock = Clock(1_000_020.0 + 54)  # 54 s into a minute
    make = (lambda: RateLimit(3, client(request.getfixturevalue("redis_port")), clock)) if shared else \
        (lambda: RateLimit(3, None, clock))
    first, second = (make(), make()) if shared else (make(),) * 2
    sender = f"web-limit-{shared}-{id(clock)}"
    # Shared: the messages land on two gateways, and the two count together.
    assert [await (first, second)[i % 2].allow(sender) for i in range(3)] == [True, True, True]
    assert await first.allow("web-someone-else")  # one sender's flood is theirs alone
    clock.now += 12  # 6 s into the next minute: the last 60 s still hold those three
    assert not await second.allow(sender)
    clock.now += 60 + 30  # well past a minute of quiet
    assert await first.allow(sender)
    await first.close()
    if shared:
        await second.close()


async def test_with_redis_down_citizens_are_served():
    clock = Clock()
    limit = RateLimit(1, client(free_port()), clock)
    assert [await limit.allow("web-x") for _ in range(3)] == [True, True, True]
    assert limit._redis_down_until == clock.now + 5  # asked once, then not for a while: nobody waits on it
    await limit.close()


async def test_an_event_reaches_the_listener_on_another_gateway(redis_port):
    here, there = RedisBus(client(redis_port)), RedisBus(client(redis_port))
    try:
        assert await there.publish("citizen:web-a", {"text": "chào"}) == 0  # no page open anywhere
        async with here.listen("citizen:web-a") as page:
            await asyncio.sleep(0.2)  # the subscription is made
            assert await there.publish("citizen:web-a", {"text": "Dạ, cán bộ Lan đây ạ."}) == 1
            assert await asyncio.wait_for(page.get(), 5) == {"text": "Dạ, cán bộ Lan đây ạ."}
            assert await there.publish("citizen:web-b", {"text": "khác"}) == 0
            assert page.empty()
        await asyncio.sleep(0.2)
        assert await there.publish("citizen:web-a", {"text": "đóng rồi"}) == 0  # the page closed
    finally:
        await here.close()
        await there.close()


async def test_one_gateway_alone_keeps_its_events_in_process():
    bus = LocalBus()
    assert await bus.publish("officers", {"type": "queue"}) == 0
    async with bus.listen("officers") as first, bus.listen("officers") as second:
        assert await bus.publish("officers", {"type": "queue"}) == 1
        assert first.get_nowait() == second.get_nowait() == {"type": "queue"}
    assert await bus.publish("officers", {"type": "queue"}) == 0


async def test_with_redis_down_an_event_has_no_listener_and_nothing_breaks():
    bus = RedisBus(client(free_port()))
    assert await bus.publish("citizen:web-a", {"text": "chào"}) == 0  # the message waits for the page's next visit
    async with bus.listen("citizen:web-a") as page:
        assert page.empty()
    await bus.close()
