"""The rate limiter's memory stays bounded however many different keys (tokens, addresses) are tried."""
from __future__ import annotations

from service.rate_limit import RateLimiter


def test_a_flood_of_distinct_keys_does_not_grow_without_bound():
    # The calendar feed is limited per token hash: anyone may send endless made-up tokens.
    moments = [0.0]
    limiter = RateLimiter(60, now=lambda: moments[0])
    for n in range(50_000):
        moments[0] = n * 0.01  # 100 new keys a second; one token refills in a second
        assert limiter.take(f"token-{n}") is None
    assert limiter.tracked() < 2_000


def test_pruning_keeps_a_key_that_must_still_wait():
    moments = [0.0]
    limiter = RateLimiter(2, now=lambda: moments[0])
    assert limiter.take("busy") is None and limiter.take("busy") is None
    assert limiter.take("busy") is not None
    for n in range(20_000):  # others come and go, pruning runs
        limiter.take(f"other-{n}")
    assert limiter.take("busy") is not None  # still empty: not forgotten
    moments[0] = 60.0
    assert limiter.take("busy") is None
