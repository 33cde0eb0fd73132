"""How many messages a sender may send a minute: counted in Redis when REDIS_HOST is set, so a flood is slowed
whichever gateways it reaches; in this process on the embedded default (one gateway)."""
from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

WINDOW = 60  # seconds
PAUSE = 5.0  # seconds without asking Redis after it failed: a message does not wait on a dead server


class RateLimit:
    def __init__(self, per_minute: int, client=None, clock=time.time):
        """`client`: a redis.asyncio client shared by every gateway, or None."""
        self.per_minute, self.client, self.clock = per_minute, client, clock
        self._window, self._counts = -1, {}
        self._redis_down_until = 0.0

    async def allow(self, sender: str) -> bool:
        """Counts this message; False once the sender has sent `per_minute` in this minute."""
        window = int(self.clock() // WINDOW)
        if self.client is None:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts[sender] = self._counts.get(sender, 0) + 1
            return count <= self.per_minute
        if self.clock() < self._redis_down_until:
            return True
        key = f"trolyhue:rate:{sender}:{window}"
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(key).expire(key, 2 * WINDOW).execute()
        except Exception as failure:  # Redis down: citizens are served rather than refused
            log.warning("rate limit: Redis unavailable (%s); messages allowed", type(failure).__name__)
            self._redis_down_until = self.clock() + PAUSE
            return True
        return count <= self.per_minute

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
