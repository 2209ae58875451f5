"""The outbox's database side for the worker: claim due deliveries with all they need, record attempts in batches."""
from __future__ import annotations

import os
import random
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import Engine, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events.fastsql import Raw
from events.transactions import writing
from events.tables import events as events_table

from .channels.base import Delivered, Failed, Outcome, Retry
from .retry import next_attempt
from .tables import alerts, deliveries, subscriptions, worker_heartbeats


@dataclass(frozen=True)
class Claimed:
    """A leased delivery with everything needed to send it (channel secrets still sealed)."""
    id: str
    alert_id: str | None
    subscription_id: str
    kind: str
    target: str
    attempts: int
    first_attempt_at: datetime | None
    lease_until: datetime
    subscription_active: bool = True
    sealed_channel: str | None = None
    sealed_escalate_to: str | None = None
    sealed_secret: str | None = None
    include_personal_data: bool = False
    # The alert's rule, severity, title, case_id, event_id, due_at, late, raised_at; its event's type and time.
    alert: dict | None = None
    language: str = "en"  # the subscription's, for the message's words
    tree_size: int | None = None  # a checkpoint delivery's checkpoint


@dataclass(frozen=True)
class Attempt:
    claimed: Claimed
    attempted_at: datetime
    duration_ms: int
    outcome: Outcome
    channel_kind: str = "unknown"  # webhook, slack, ...: known once the sealed channel is opened


CLAIM_COLUMNS = (
    deliveries.c.id, deliveries.c.alert_id, deliveries.c.subscription_id, deliveries.c.kind, deliveries.c.target,
    deliveries.c.attempts, deliveries.c.first_attempt_at, deliveries.c.tree_size,
    subscriptions.c.disabled_at, subscriptions.c.deleted_at, subscriptions.c.channel.label("sealed_channel"),
    subscriptions.c.escalate_to.label("sealed_escalate_to"), subscriptions.c.secret.label("sealed_secret"),
    subscriptions.c.include_personal_data, subscriptions.c.language,
    alerts.c.rule, alerts.c.severity, alerts.c.title, alerts.c.title_phrase, alerts.c.case_id, alerts.c.event_id, alerts.c.due_at,
    alerts.c.late, alerts.c.raised_at, events_table.c.type.label("event_type"), events_table.c.occurred_at,
    events_table.c.date_precision,
)


# Deliveries with their subscription, alert and source event: all a message needs, in one query. Built once: building
# and cache-keying it for every hand-off cost more than running it.
WITH_CONTEXT = (select(*CLAIM_COLUMNS)
                .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                .outerjoin(alerts, alerts.c.id == deliveries.c.alert_id)
                .outerjoin(events_table, and_(events_table.c.stream_id == alerts.c.case_id,
                                              events_table.c.event_id == alerts.c.event_id))
                .where(deliveries.c.id.in_(bindparam("ids", expanding=True))))


def new_worker_id() -> str:
    """Names one running worker: host and process for a person reading the table, a random part for uniqueness."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


# Written once as SQL (executemany on the driver): building and compiling these for every batch of outcomes cost more
# than running them. The next state is stored only if the lease it was sent under is still the row's.
INSERT_ATTEMPT = ("INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, outcome, status_code, error) "
                  "VALUES (:delivery_id, :attempted_at, :duration_ms, :outcome, :status_code, :error)")
NEXT_STATE = ("UPDATE deliveries SET attempts = :attempts, first_attempt_at = :first_attempt_at, "
              "delivered_at = :delivered_at, state = :state, next_attempt_at = :next_attempt_at, "
              "last_error = :last_error, lease_until = NULL, leased_by = NULL "
              "WHERE id = :d_id AND lease_until = :d_lease")
OUTCOME_NAMES = {Delivered: "delivered", Failed: "failed", Retry: "retry"}
# Due deliveries, unleased or leased by a worker whose heartbeat is stale; written once, like the two above (built
# with SQLAlchemy, this and the lease's UPDATE cost a claim more CPU than the database work).
CLAIM_DUE = ("SELECT id FROM deliveries WHERE state IN ('pending', 'failed') AND next_attempt_at <= :now "
             "AND (lease_until IS NULL OR lease_until <= :now OR (leased_by IS NOT NULL AND leased_by NOT IN "
             "(SELECT worker_id FROM worker_heartbeats WHERE beat_at > :alive))) "
             "ORDER BY next_attempt_at LIMIT :limit")
CLAIM_DUE_PG = CLAIM_DUE + " FOR UPDATE SKIP LOCKED"
LEASE = "UPDATE deliveries SET lease_until = :lease_until, leased_by = :leased_by WHERE id = :id"


class DeliveryStore:
    """Leases carry the worker's id; a worker beats a heartbeat while it lives. A lease whose worker has stopped
    beating for `stale_after` is free to take, so a killed worker's deliveries resume within seconds."""

    def __init__(self, engine: Engine, lease: timedelta, rng: random.Random | None = None,
                 worker_id: str | None = None, stale_after: timedelta = timedelta(seconds=5)):
        self.engine, self.lease, self.rng = engine, lease, rng or random.Random()
        self.worker_id, self.stale_after = worker_id or new_worker_id(), stale_after
        self._beaten_at: datetime | None = None
        self._postgres = engine.dialect.name == "postgresql"

    def _beat(self, conn, now: datetime) -> None:
        self._beaten_at = now
        upsert = (pg_insert if self._postgres else sqlite_insert)(worker_heartbeats).values(
            worker_id=self.worker_id, started_at=now, beat_at=now)
        conn.execute(upsert.on_conflict_do_update(index_elements=["worker_id"], set_={"beat_at": now}))

    def beat(self, now: datetime) -> None:
        """Say this worker is alive (its leases hold)."""
        with writing(self.engine) as conn:
            self._beat(conn, now)

    def leave(self) -> int:
        """A clean stop: give back the leases of deliveries not recorded, and the heartbeat; returns how many."""
        with writing(self.engine) as conn:
            released = conn.execute(update(deliveries).where(
                deliveries.c.leased_by == self.worker_id, deliveries.c.state.in_(("pending", "failed")),
                deliveries.c.lease_until.is_not(None)).values(lease_until=None, leased_by=None)).rowcount
            conn.execute(delete(worker_heartbeats).where(worker_heartbeats.c.worker_id == self.worker_id))
        return released

    def claim(self, now: datetime, limit: int) -> list[Claimed]:
        """Lease up to `limit` due deliveries (SKIP LOCKED on PostgreSQL, so workers never share one)."""
        lease_until = now + self.lease
        with writing(self.engine) as conn:
            if self._beaten_at is None or now - self._beaten_at >= self.stale_after / 5:
                self._beat(conn, now)  # alive before holding any lease (the beat loop keeps it so after)
            raw = Raw(conn)
            ids = [r[0] for r in raw.all(CLAIM_DUE_PG if self._postgres else CLAIM_DUE, {
                "now": raw.time(now), "alive": raw.time(now - self.stale_after), "limit": limit})]
            if not ids:
                return []
            until = raw.time(lease_until)
            raw.many_tuples(LEASE, [(until, self.worker_id, i) for i in ids])
            rows = conn.execute(WITH_CONTEXT, {"ids": ids}).all()
        return [self._claimed(r, lease_until) for r in rows]

    def leased(self, leases: dict[str, datetime]) -> list[Claimed]:
        """Deliveries written already leased to this worker (hand-offs, each id with the lease it was written
        with), read with all they need in one query: no write."""
        with self.engine.connect() as conn:
            rows = conn.execute(WITH_CONTEXT, {"ids": list(leases)}).all()
        return [self._claimed(r, leases[r.id]) for r in rows]

    @staticmethod
    def _claimed(r, lease_until: datetime) -> Claimed:
        alert = None
        if r.alert_id is not None:
            alert = {"rule": r.rule, "severity": r.severity, "title": r.title, "title_phrase": r.title_phrase,
                     "case_id": r.case_id,
                     "event_id": r.event_id, "due_at": r.due_at, "late": r.late, "event_type": r.event_type,
                     "occurred_at": r.occurred_at, "raised_at": r.raised_at,
                     "date_precision": r.date_precision or "exact"}
        return Claimed(r.id, r.alert_id, r.subscription_id, r.kind, r.target, r.attempts, r.first_attempt_at,
                       lease_until, r.disabled_at is None and r.deleted_at is None, r.sealed_channel,
                       r.sealed_escalate_to, r.sealed_secret, r.include_personal_data, alert, r.language,
                       r.tree_size)

    def claim_test(self, subscription_id: str, now: datetime) -> Claimed:
        """A test delivery, created already leased so that the caller sends it right now."""
        delivery_id = str(uuid.uuid4())
        with writing(self.engine) as conn:
            conn.execute(insert(deliveries).values(
                id=delivery_id, alert_id=None, subscription_id=subscription_id, kind="test", target="channel",
                state="pending", attempts=0, created_at=now, next_attempt_at=now, lease_until=now + self.lease,
                leased_by=self.worker_id))
            rows = conn.execute(WITH_CONTEXT, {"ids": [delivery_id]}).all()
        return self._claimed(rows[0], now + self.lease)

    def record(self, attempts: Sequence[Attempt]) -> list[str]:
        """Store attempts and each delivery's next state in one transaction (one statement per kind of row);
        returns the states. A delivery whose lease was taken over meanwhile keeps the new holder's state."""
        if not attempts:
            return []
        states = [self._next_state(a) for a in attempts]
        with writing(self.engine) as conn:
            raw = Raw(conn)
            raw.many_tuples(INSERT_ATTEMPT, [
                (a.claimed.id, raw.time(a.attempted_at), a.duration_ms, OUTCOME_NAMES[type(a.outcome)],
                 getattr(a.outcome, "status_code", None), getattr(a.outcome, "error", None)) for a in attempts])
            raw.many_tuples(NEXT_STATE, [
                (v["attempts"], raw.time(v["first_attempt_at"]), raw.time(v["delivered_at"]), v["state"],
                 raw.time(v["next_attempt_at"]), v["last_error"], a.claimed.id, raw.time(a.claimed.lease_until))
                for a, v in zip(attempts, states)])
            gone = {(a.claimed.subscription_id, a.attempted_at, a.outcome.error[:300]) for a in attempts
                    if isinstance(a.outcome, Failed) and a.outcome.disable_subscription}
            for subscription_id, when, reason in gone:
                conn.execute(update(subscriptions).where(subscriptions.c.id == subscription_id)
                             .values(disabled_at=when, disabled_reason=reason))
        return [values["state"] for values in states]

    def _next_state(self, a: Attempt) -> dict:
        c, outcome = a.claimed, a.outcome
        first = c.first_attempt_at or a.attempted_at
        values: dict = {"attempts": c.attempts + 1, "first_attempt_at": first, "delivered_at": None}
        if isinstance(outcome, Delivered):
            values.update(state="delivered", delivered_at=a.attempted_at, next_attempt_at=None, last_error=None)
        elif isinstance(outcome, Failed):
            values.update(state="dead", next_attempt_at=None, last_error=outcome.error)
        else:
            when = next_attempt(c.attempts + 1, first, a.attempted_at, outcome.after, self.rng)
            values.update(state="failed" if when else "dead", next_attempt_at=when, last_error=outcome.error)
        return values

    def escalate_due(self, now: datetime) -> int:
        """Queue an escalation for each open critical alert left unacknowledged past its subscription's limit."""
        query = (select(deliveries.c.alert_id, deliveries.c.subscription_id, alerts.c.raised_at,
                        subscriptions.c.escalate_after_seconds)
                 .join(alerts, alerts.c.id == deliveries.c.alert_id)
                 .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                 .where(deliveries.c.kind == "raised", alerts.c.state == "open", alerts.c.severity == "critical",
                        subscriptions.c.escalate_after_seconds.is_not(None), subscriptions.c.deleted_at.is_(None)))
        insert_ = pg_insert if self._postgres else sqlite_insert
        queued = 0
        with self.engine.connect() as conn:
            candidates = [r for r in conn.execute(query).all()
                          if r.raised_at + timedelta(seconds=r.escalate_after_seconds) <= now]
        if not candidates:
            return 0
        with writing(self.engine) as conn:
            for row in candidates:
                done = conn.execute(insert_(deliveries).values(
                    id=str(uuid.uuid4()), alert_id=row.alert_id, subscription_id=row.subscription_id,
                    kind="escalated", target="escalation", state="pending", attempts=0, created_at=now,
                    next_attempt_at=now).on_conflict_do_nothing(index_elements=["alert_id", "subscription_id", "kind"])
                    .returning(deliveries.c.id)).first()
                queued += done is not None
        return queued
