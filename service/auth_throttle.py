"""Throttling failed authentication per client address (an IPv6 one by its /64: service/client_address.py): counted in the database, so every server process (and on
PostgreSQL every host) sees the same count; each process also remembers the addresses it has refused."""
from __future__ import annotations

import math
import threading
from datetime import datetime

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events.clock import Clock
from events.tables import auth_failures
from events.transactions import writing

from .client_address import throttle_key


def wait_after(failures: int, limit: int, now: datetime) -> float | None:
    """Seconds until this address may try again, or None while it is within `limit` failures this minute."""
    if limit <= 0 or failures <= limit:
        return None
    return 60.0 - (now.timestamp() % 60.0)


class AuthThrottle:
    """`limit` failed authentications a minute per address (0 turns it off); past that, 429 until the minute ends."""

    def __init__(self, engine: Engine, clock: Clock, limit: int):
        self.engine, self.clock, self.limit = engine, clock, limit
        self._refused: dict[str, float] = {}  # address -> timestamp until which this process refuses it
        self._mutex = threading.Lock()

    def blocked(self, address: str | None) -> int | None:
        """Seconds (rounded up) this address must still wait, as this process knows it; None if it may try."""
        address = throttle_key(address)
        if self.limit <= 0 or not address:
            return None
        now = self.clock.now().timestamp()
        with self._mutex:
            until = self._refused.get(address)
            if until is None or until <= now:
                self._refused.pop(address, None)
                return None
        return max(1, math.ceil(until - now))

    def failed(self, address: str | None) -> int | None:
        """Count one failed authentication; seconds to wait if the address is now past the limit, else None."""
        address = throttle_key(address)
        if self.limit <= 0 or not address:
            return None
        now = self.clock.now()
        minute = int(now.timestamp() // 60)
        insert = (pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(auth_failures)
        count = (insert.values(address=address, minute=minute, failures=1)
                 .on_conflict_do_update(index_elements=["address", "minute"],
                                        set_={"failures": auth_failures.c.failures + 1})
                 .returning(auth_failures.c.failures))
        with writing(self.engine) as conn:
            failures = conn.execute(count).scalar_one()
            if failures == 1:  # the first failure of a minute clears out those of earlier minutes
                conn.execute(delete(auth_failures).where(auth_failures.c.minute < minute - 1))
        wait = wait_after(failures, self.limit, now)
        if wait is None:
            return None
        with self._mutex:
            if len(self._refused) > 10_000:  # many addresses refused at once: keep only those still refused
                self._refused = {a: t for a, t in self._refused.items() if t > now.timestamp()}
            self._refused[address] = now.timestamp() + wait
        return max(1, math.ceil(wait))
