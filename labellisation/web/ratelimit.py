"""A sliding-window rate limiter, in memory: per API process (N processes allow N times the limit)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key; a refused attempt is not counted."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def allows(self, key: str) -> bool:
        """Whether one more attempt fits now (counting nothing)."""
        return len(self._recent(key, self.clock())) < self.limit

    def hit(self, key: str) -> None:
        now = self.clock()
        hits = self._recent(key, now)
        hits.append(now)
        self._hits[key] = hits
        self._hits.move_to_end(key)
        while len(self._hits) > self.max_keys:  # the key idle the longest goes first
            self._hits.popitem(last=False)

    def retry_after(self, key: str) -> int:
        """Seconds until the next attempt fits (0 if it does now)."""
        now = self.clock()
        hits = self._recent(key, now)
        if len(hits) < self.limit:
            return 0
        return max(1, int(hits[-self.limit] + self.window - now) + 1)
