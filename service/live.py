"""Live pages' change feed: per process, small notices (kind, case_id, teams; no personal data) read from the database.

The database is the one source: an appended event is a row past the last position seen, an alert raised,
acknowledged or withdrawn is a row with one of those times in the recent window. A follower task reads them when
woken and hands each notice to the subscribers whose team may see the case. Woken by: a commit in this process
(at once); another process on PostgreSQL (LISTEN on `vigil_live` and the outbox's channel, at once); another process
on SQLite (`PRAGMA data_version` checked every `tick_seconds`, 0.5 s: the worst-case latency there).
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import AsyncIterator

from sqlalchemy import Engine, bindparam, text

from events.clock import Clock
from events.tables import UTCDateTime
from notifications.outbox import NOTIFY_CHANNEL as OUTBOX_CHANNEL

from .access import Principal

log = logging.getLogger("vigil.live")
NOTIFY_CHANNEL = "vigil_live"
# Acknowledged or raised with a time a little before the last look still counts: another process's clock, or a
# transaction that took its time before committing. Alerts already told of are remembered for this long.
ALERT_LOOKBACK = timedelta(seconds=60)
QUEUE_SIZE = 256  # notices waiting for one slow connection; past it, the page is told to reload instead
# Open streams one person or key may hold in this process: many tabs, yet not a connection flood from one session.
MAX_STREAMS_PER_ACTOR = 20


# One indexed range read per time (0023), their ids united: an OR of the three would read every alert on each tick.
# The time is bound as the columns store it (on SQLite, text with microseconds), so `>` compares like with like.
ALERTS_SINCE = text(
    "SELECT a.id, a.state, a.case_id, p.teams FROM ("
    "SELECT id FROM alerts WHERE raised_at > :t "
    "UNION SELECT id FROM alerts WHERE acknowledged_at > :t "
    "UNION SELECT id FROM alerts WHERE withdrawn_at > :t) changed "
    "JOIN alerts a ON a.id = changed.id "
    "LEFT JOIN case_projections p ON p.case_id = a.case_id").bindparams(bindparam("t", type_=UTCDateTime()))


class TooManyStreams(Exception):
    """The principal holds MAX_STREAMS_PER_ACTOR streams already."""


@dataclass(frozen=True)
class Notice:
    kind: str  # "event" (appended to the case), "alert" (raised, acknowledged or withdrawn), or "reload"
    case_id: str
    teams: tuple[str, ...]
    position: int | None = None  # an event's global position: the stream's event id, for Last-Event-ID

    def wire(self) -> dict[str, str]:
        """What the browser is told: what changed and where, nothing about whom."""
        return {"kind": self.kind, "case_id": self.case_id}


@dataclass(eq=False)
class Subscriber:
    who: Principal
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    last_position: int = 0
    overflowed: bool = False

    def offer(self, notice: Notice) -> None:
        if notice.kind != "reload" and not self.who.may_see(notice.teams):  # a reload names no case
            return
        try:
            self.queue.put_nowait(notice)
        except asyncio.QueueFull:
            self.overflowed = True


def _teams(raw: str | None) -> tuple[str, ...]:
    return tuple(json.loads(raw)) if raw else ()


class Changes:
    """The feed's reads; each one indexed (events by position) or over the recent alerts only."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def head(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT COALESCE(MAX(position), 0) FROM events")).scalar_one()

    def events_after(self, position: int, limit: int) -> list[Notice]:
        """One notice per case for the events after `position` (its last position), in order; at most `limit` rows
        are read, so a caller that gets `limit` back knows there may be more."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT e.position, e.stream_id, p.teams FROM events e "
                "LEFT JOIN case_projections p ON p.case_id = e.stream_id "
                "WHERE e.position > :p ORDER BY e.position LIMIT :n"), {"p": position, "n": limit}).all()
        last: dict[str, Notice] = {}
        for position_, case_id, teams in rows:
            last.pop(case_id, None)  # re-inserted: ordered by each case's last event
            last[case_id] = Notice("event", case_id, _teams(teams), position_)
        return list(last.values()) if len(rows) < limit else list(last.values()) + [Notice("reload", "", ())]

    def alerts_since(self, since: datetime) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(alert id, state, case id, teams) of the alerts raised, acknowledged or withdrawn since `since`."""
        with self.engine.connect() as conn:
            rows = conn.execute(ALERTS_SINCE, {"t": since}).all()
        return [(r[0], r[1], r[2], _teams(r[3])) for r in rows]


class LiveFeed:
    def __init__(self, engine: Engine, clock: Clock, tick_seconds: float = 0.5, heartbeat_seconds: float = 15.0):
        self.engine, self.clock = engine, clock
        self.changes = Changes(engine)
        self.tick_seconds, self.heartbeat_seconds = tick_seconds, heartbeat_seconds
        self._postgres = engine.dialect.name == "postgresql"
        self._subscribers: set[Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._follower: asyncio.Task | None = None
        self._starting = asyncio.Lock()  # two pages opening at once start one follower, not two
        self.max_per_actor = MAX_STREAMS_PER_ACTOR

    # ---- publishing: called by the append (a store reaction), acknowledgements and the ticker ----
    def __call__(self, conn, stream_id, appended, folded, context) -> None:
        """The append's last reaction: on PostgreSQL a NOTIFY sent with the commit; here, a wake after it."""
        if self._postgres:
            conn.execute(text("SELECT pg_notify(:c, '')"), {"c": NOTIFY_CHANNEL})
        context.after_commit.append(self.wake)

    def changed(self) -> None:
        """After a commit that changed alerts (outside an append): tell this process and, on PostgreSQL, the others."""
        self.wake()
        if self._postgres:
            try:
                with self.engine.begin() as conn:
                    conn.execute(text("SELECT pg_notify(:c, '')"), {"c": NOTIFY_CHANNEL})
            except Exception:  # a page shown a moment stale is no reason to fail what was already committed
                log.warning("could not notify other processes of an alert change", exc_info=True)

    def wake(self, *_args) -> None:
        """From any thread: look for changes now."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    # ---- subscribing: one per open page ----
    @asynccontextmanager
    async def subscribe(self, who: Principal) -> AsyncIterator[Subscriber]:
        """TooManyStreams if `who` holds its share already (checked and counted with no await between)."""
        if self.open_for(who.actor) >= self.max_per_actor:
            raise TooManyStreams(who.actor)
        subscriber = Subscriber(who)
        self._subscribers.add(subscriber)
        try:
            async with self._starting:
                if self._follower is None or self._follower.done():
                    self._loop = asyncio.get_running_loop()
                    self._wake = asyncio.Event()
                    # Where it starts is read before the subscriber is told it listens: nothing after is missed.
                    start = await asyncio.to_thread(self._start)
                    self._follower = asyncio.create_task(self._follow(*start))
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)
            if not self._subscribers and self._follower is not None:
                self._follower.cancel()
                self._follower = None

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def open_for(self, actor: str) -> int:
        return sum(1 for s in self._subscribers if s.who.actor == actor)

    async def replay(self, subscriber: Subscriber, after: int, limit: int = 200) -> list[Notice]:
        """What the subscriber missed since event `after` (its page's or its Last-Event-ID), its team's only."""
        notices = await asyncio.to_thread(self.changes.events_after, after, limit)
        return [n for n in notices if n.kind == "reload" or subscriber.who.may_see(n.teams)]

    # ---- following the database ----
    def _start(self) -> tuple[int, datetime, dict[tuple[str, str], datetime]]:
        since = self.clock.now()
        return self.changes.head(), since, {(a, s): since for a, s, _, _ in self.changes.alerts_since(
            since - ALERT_LOOKBACK)}

    async def _follow(self, position: int, since: datetime, seen: dict[tuple[str, str], datetime]) -> None:
        stop = threading.Event()
        # SQLite counts other connections' commits per connection, so the feed keeps one of its own for asking.
        own = None if self._postgres else await asyncio.to_thread(self.engine.raw_connection)
        if self._postgres:
            threading.Thread(target=self._listen, args=(stop,), name="vigil-live-listener", daemon=True).start()
        version = None
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.tick_seconds)
                    woken = True
                except asyncio.TimeoutError:
                    woken = False
                self._wake.clear()
                try:
                    if own is not None:
                        now_version = await asyncio.to_thread(self._data_version, own)
                        if now_version == version and not woken:
                            continue
                        version = now_version
                    elif not woken:
                        continue  # PostgreSQL: every change comes with a NOTIFY
                    position, since = await asyncio.to_thread(self._fan_out, position, since, seen)
                except Exception:  # the database blinked: the next wake or tick looks again
                    log.warning("live feed could not read changes", exc_info=True)
                    await asyncio.sleep(self.tick_seconds)
        finally:
            stop.set()
            if own is not None:
                own.close()  # back to the pool

    @staticmethod
    def _data_version(own) -> int:
        """Changes whenever another connection (of any process) committed to the SQLite file; costs no read."""
        cursor = own.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            return cursor.fetchone()[0]
        finally:
            cursor.close()

    def _fan_out(self, position: int, since: datetime, seen: dict[tuple[str, str], datetime]):
        notices = self.changes.events_after(position, 1000)
        position = max([n.position for n in notices if n.position] + [position])
        look = self.clock.now()
        for alert_id, state, case_id, teams in self.changes.alerts_since(since - ALERT_LOOKBACK):
            if (alert_id, state) not in seen:
                seen[(alert_id, state)] = look
                notices.append(Notice("alert", case_id, teams))
        for key in [k for k, at in seen.items() if at < look - 2 * ALERT_LOOKBACK]:
            del seen[key]
        if notices and self._loop is not None:
            self._loop.call_soon_threadsafe(self._deliver, notices)
        return position, look

    def _deliver(self, notices: list[Notice]) -> None:
        for subscriber in list(self._subscribers):
            for notice in notices:
                subscriber.offer(notice)

    def _listen(self, stop: threading.Event) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    conn.execute(f"LISTEN {OUTBOX_CHANNEL}")  # alerts raised by appends and the ticker
                    self.wake()  # anything missed while not listening
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.wake()
            except psycopg.Error:
                log.warning("live listener lost its connection; trying again")
                stop.wait(1)
