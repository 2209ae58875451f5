"""Retry policy (pure): when to try a failed delivery again, and when to give up as dead."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

SCHEDULE = [timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
            timedelta(minutes=30), timedelta(hours=1)]
GIVE_UP_AFTER = timedelta(hours=24)
MAX_RETRY_AFTER = timedelta(hours=6)
JITTER = 0.2


def backoff(failures: int) -> timedelta:
    """Delay after the n-th failure (1-based): 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then hourly."""
    return SCHEDULE[min(failures, len(SCHEDULE)) - 1]


def next_attempt(failures: int, first_attempt_at: datetime, now: datetime, retry_after: timedelta | None = None,
                 rng: random.Random | None = None) -> datetime | None:
    """The next attempt time, or None when the delivery should be declared dead."""
    delay = backoff(failures)
    jittered = delay * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after is not None:
        jittered = max(jittered, min(retry_after, MAX_RETRY_AFTER))
    when = now + jittered
    return None if when - first_attempt_at > GIVE_UP_AFTER else when


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(when - now, timedelta(0))
