"""Per-key rate limiting: a token bucket per API key (pure arithmetic on a monotonic time given in)."""
from __future__ import annotations

import threading
import time
from typing import Callable


class RateLimiter:
    """`per_minute` requests a minute on average, in bursts of up to a minute's worth; 0 turns it off."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic):
        self.per_minute, self.now = per_minute, now
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """None if the request may go ahead, else how many seconds to wait."""
        if self.per_minute <= 0:
            return None
        now = self.now()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
