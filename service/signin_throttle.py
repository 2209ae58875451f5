"""Growing delays after failed sign-ins, per address and per account name that names nobody, counted in the database
so that every server process (and a restarted one) sees the same count. Pure delays take the count; `now` is the
injected clock's."""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events.clock import Clock
from events.tables import signin_failures
from events.transactions import writing

from .client_address import throttle_key

FREE_FAILURES = 3  # failed sign-ins an account may have before each further try must wait
LOCKOUT_AFTER = 10  # failures after which an account is locked (by default; VIGIL_SIGNIN_LOCK_AFTER): it waits
# MAX_DELAY, its admins are told
MAX_DELAY = timedelta(minutes=15)
ADDRESS_FREE_FAILURES = 20  # an office or a VPN shares one address: more leeway than for one account
FORGET_AFTER = timedelta(hours=24)  # a count with no failure for this long starts again from nothing


def account_delay(failures: int, lock_after: int = LOCKOUT_AFTER) -> timedelta:
    """How long an account waits after its last failure: nothing for the first few, then 1 s, 2 s, 4 s, ...;
    from the lockout (at `lock_after` failures) on, MAX_DELAY."""
    if failures >= lock_after:
        return MAX_DELAY
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, timedelta(seconds=2 ** (failures - FREE_FAILURES)))


def lock_in_force(locked_at: datetime | None, failed_at: datetime | None, now: datetime) -> bool:
    """Whether a locked account is still locked: until an admin unlocks it, or MAX_DELAY after its last failure
    (a sign-in then may try again; one more failure locks it for another MAX_DELAY)."""
    return locked_at is not None and failed_at is not None and failed_at + MAX_DELAY > now


def address_delay(failures: int) -> timedelta:
    """How long an address waits after its last failure: nothing for the first twenty, then doubling up to 15 min."""
    if failures < ADDRESS_FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, timedelta(seconds=2 ** min(failures - ADDRESS_FREE_FAILURES, 20)))


def seconds_left(failed_at: datetime | None, delay: timedelta, now: datetime) -> int | None:
    """Whole seconds (rounded up) until `failed_at + delay`, or None once it has passed."""
    if failed_at is None or delay <= timedelta(0):
        return None
    left = (failed_at + delay - now).total_seconds()
    return max(1, math.ceil(left)) if left > 0 else None


def address_subject(address: str | None) -> str | None:
    """The key of a client address's failures (an IPv6 one's /64)."""
    key = throttle_key(address)
    return f"address:{key}" if key else None


def account_subject(account: str) -> str:
    """The key of an account name that names nobody (hashed: the table never holds what someone typed)."""
    return "account:" + hashlib.sha256(account.strip().lower().encode()).hexdigest()


class SigninThrottle:
    def __init__(self, engine: Engine, clock: Clock):
        self.engine, self.clock = engine, clock

    def failures(self, subject: str | None) -> tuple[int, datetime | None]:
        if subject is None:
            return 0, None
        with self.engine.connect() as conn:
            row = conn.execute(select(signin_failures.c.failures, signin_failures.c.failed_at)
                               .where(signin_failures.c.subject == subject)).first()
        if row is None or row.failed_at <= self.clock.now() - FORGET_AFTER:
            return 0, None
        return row.failures, row.failed_at

    def wait(self, subject: str | None, delay=address_delay) -> int | None:
        """Seconds this subject must still wait before its next try, or None."""
        failures, failed_at = self.failures(subject)
        return seconds_left(failed_at, delay(failures), self.clock.now())

    def failed(self, subject: str | None) -> int:
        """Count one failure (a count gone quiet for FORGET_AFTER starts again at one); returns the new count."""
        if subject is None:
            return 0
        now = self.clock.now()
        stale = signin_failures.c.failed_at <= now - FORGET_AFTER
        insert = (pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(signin_failures)
        upsert = (insert.values(subject=subject, failures=1, failed_at=now)
                  .on_conflict_do_update(index_elements=["subject"], set_={
                      "failures": case((stale, 1), else_=signin_failures.c.failures + 1), "failed_at": now})
                  .returning(signin_failures.c.failures))
        with writing(self.engine) as conn:
            count = conn.execute(upsert).scalar_one()
            if count == 1:  # now and then, clear out the counts nobody has added to for a day
                conn.execute(delete(signin_failures).where(stale))
        return count
