"""Retry policy (pure): the backoff schedule, its jitter, Retry-After, and when a delivery is given up as dead."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from notifications.retry import GIVE_UP_AFTER, JITTER, MAX_RETRY_AFTER, backoff, next_attempt, parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class Fixed(random.Random):
    """A random source whose uniform() always answers the same point of the range (0 low, 1 high)."""

    def __init__(self, point: float):
        super().__init__(0)
        self.point = point

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.point


def test_backoff_follows_the_schedule_then_stays_hourly():
    assert [backoff(n) for n in range(1, 9)] == [timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2),
                                                timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=1),
                                                timedelta(hours=1), timedelta(hours=1)]
    assert backoff(1000) == timedelta(hours=1)


@pytest.mark.parametrize("point, factor", [(0.0, 1 - JITTER), (0.5, 1.0), (1.0, 1 + JITTER)])
def test_jitter_spreads_the_delay_by_a_fifth_either_way(point, factor):
    assert next_attempt(3, NOW, NOW, rng=Fixed(point)) == NOW + timedelta(minutes=2) * factor


def test_jitter_stays_within_its_bounds_with_a_real_random_source():
    rng = random.Random(7)
    for failures in range(1, 10):
        delay = next_attempt(failures, NOW, NOW, rng=rng) - NOW
        assert backoff(failures) * (1 - JITTER) <= delay <= backoff(failures) * (1 + JITTER)


def test_a_longer_retry_after_wins_over_the_backoff_and_a_shorter_one_does_not():
    assert next_attempt(1, NOW, NOW, timedelta(minutes=5), Fixed(0.5)) == NOW + timedelta(minutes=5)
    assert next_attempt(6, NOW, NOW, timedelta(seconds=1), Fixed(0.5)) == NOW + timedelta(hours=1)


def test_retry_after_is_capped_at_six_hours():
    assert next_attempt(1, NOW, NOW, timedelta(days=30), Fixed(0.5)) == NOW + MAX_RETRY_AFTER


def test_given_up_as_dead_once_the_next_attempt_would_fall_past_a_day_after_the_first():
    first = NOW - GIVE_UP_AFTER + timedelta(hours=1, seconds=1)  # an hour from now is still within the day
    assert next_attempt(7, first, NOW, rng=Fixed(0.5)) == NOW + timedelta(hours=1)
    assert next_attempt(7, first - timedelta(seconds=2), NOW, rng=Fixed(0.5)) is None
    assert next_attempt(1, NOW, NOW, timedelta(days=2), Fixed(0.5)) is not None  # capped Retry-After: still alive


@pytest.mark.parametrize("value, expected", [
    ("120", timedelta(seconds=120)), (" 0 ", timedelta(0)),
    ("Sun, 01 Mar 2026 12:30:00 GMT", timedelta(minutes=30)),
    ("Sun, 01 Mar 2026 11:00:00 GMT", timedelta(0)),  # a date already past: now
    (None, None), ("", None), ("soon", None), ("-5", None), ("1.5", None),
])
def test_retry_after_as_seconds_or_an_http_date(value, expected):
    assert parse_retry_after(value, NOW) == expected
