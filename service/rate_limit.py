"""Rate limiting: a token bucket per key (API key, address, calendar token); pure arithmetic on a given clock."""
from __future__ import annotations

import threading
import time
from typing import Callable

PRUNE_FLOOR = 1024


class RateLimiter:
    """`per_minute` requests a minute on average, in bursts of up to a minute's worth; 0 turns it off."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic):
        self.per_minute, self.now = per_minute, now
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)
        self._lock = threading.Lock()
        # Keys come from outside (a calendar token, an address): buckets refilled to full are dropped once the dict
        # doubles, since a full bucket acts as a missing one. Amortised O(1); a flood keeps only the buckets
        # it emptied within one refill time.
        self._prune_at = PRUNE_FLOOR

    def take(self, key: str) -> float | None:
        """None if the request may go ahead, else how many seconds to wait."""
        if self.per_minute <= 0:
            return None
        now = self.now()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * self.rate)
            if len(self._buckets) >= self._prune_at:
                self._prune(now)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate

    def tracked(self) -> int:
        """How many keys are remembered (for tests and curiosity)."""
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        full = [k for k, (tokens, last) in self._buckets.items()
                if tokens + (now - last) * self.rate >= self.per_minute]
        for key in full:
            del self._buckets[key]
        self._prune_at = max(PRUNE_FLOOR, 2 * len(self._buckets))
