"""How many messages a sender may send a minute: counted in Redis when REDIS_HOST is set, so a flood is slowed
whichever gateways it reaches; in this process on the embedded default (one gateway).

A sliding window: this minute's count plus the last minute's, weighted by how much of it the last 60 s still cover.
Fixed minutes alone would let a flood send twice the limit across a minute's turn."""
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
        self._counts: dict[int, dict[str, int]] = {}  # minute -> sender -> messages (this minute and the last)
        self._redis_down_until = 0.0

    async def allow(self, sender: str) -> bool:
        """Counts this message; False once the sender has sent `per_minute` in about the last 60 s."""
        now = self.clock()
        window, into = divmod(now, WINDOW)
        window = int(window)
        if self.client is None:
            self._counts = {w: counts for w, counts in self._counts.items() if w >= window - 1}
            current = self._counts.setdefault(window, {})
            current[sender] = current.get(sender, 0) + 1
            count, last = current[sender], self._counts.get(window - 1, {}).get(sender, 0)
        elif now < self._redis_down_until:
            return True
        else:
            key = f"trolyhue:rate:{sender}:{window}"
            try:
                async with self.client.pipeline(transaction=True) as pipe:
                    pipe.incr(key).expire(key, 2 * WINDOW).get(f"trolyhue:rate:{sender}:{window - 1}")
                    count, _, last = await pipe.execute()
            except Exception as failure:  # Redis down: citizens are served rather than refused
                log.warning("rate limit: Redis unavailable (%s); messages allowed", type(failure).__name__)
                self._redis_down_until = now + PAUSE
                return True
            last = int(last or 0)
        return count + last * (1 - into / WINDOW) <= self.per_minute

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
