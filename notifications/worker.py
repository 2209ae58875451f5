"""The delivery worker: claims due deliveries, renders and sends them, and records every attempt."""
from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import httpx
from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events.clock import Clock
from events.engine import WRITE
from events.tables import events as events_table

from . import channels
from .channels.base import Delivered, Failed, Outcome, Retry
from .channels.email import SmtpSettings
from .message import AlertMessage, test_message
from .outbox import NOTIFY_CHANNEL
from .retry import next_attempt
from .subscriptions import Subscriptions
from .tables import alerts, deliveries, delivery_attempts, subscriptions

log = logging.getLogger("vigil.worker")


@dataclass(frozen=True)
class Claimed:
    id: str
    alert_id: str | None
    subscription_id: str
    kind: str
    target: str
    attempts: int
    first_attempt_at: datetime | None
    lease_until: datetime


class DeliveryWorker:
    def __init__(self, engine: Engine, clock: Clock, subs: Subscriptions, public_url: str, smtp: SmtpSettings,
                 person_name: Callable[[str], str | None], batch: int = 200, concurrency: int = 64,
                 lease: timedelta = timedelta(seconds=60), poll_seconds: float = 1.0,
                 rng: random.Random | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 send_timeout: float = 10.0):
        self.engine, self.clock, self.subs = engine, clock, subs
        self.public_url, self.smtp, self.person_name = public_url.rstrip("/"), smtp, person_name
        self.batch, self.lease, self.poll_seconds = batch, lease, poll_seconds
        self.rng = rng or random.Random()
        self.concurrency, self.send_timeout = concurrency, send_timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._postgres = engine.dialect.name == "postgresql"

    # ---- claiming and recording (blocking; run in a thread) ----
    def claim(self, now: datetime) -> list[Claimed]:
        lease_until = now + self.lease
        query = (select(deliveries.c.id, deliveries.c.alert_id, deliveries.c.subscription_id, deliveries.c.kind,
                        deliveries.c.target, deliveries.c.attempts, deliveries.c.first_attempt_at)
                 .where(deliveries.c.state.in_(("pending", "failed")), deliveries.c.next_attempt_at <= now,
                        or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until <= now))
                 .order_by(deliveries.c.next_attempt_at).limit(self.batch))
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        with self.engine.execution_options(**WRITE).begin() as conn:
            rows = conn.execute(query).all()
            if rows:
                conn.execute(update(deliveries).where(deliveries.c.id.in_([r.id for r in rows]))
                             .values(lease_until=lease_until))
        return [Claimed(r.id, r.alert_id, r.subscription_id, r.kind, r.target, r.attempts, r.first_attempt_at,
                        lease_until) for r in rows]

    def record(self, claimed: Claimed, attempted_at: datetime, duration_ms: int, outcome: Outcome) -> str:
        """Store the attempt and the delivery's next state; returns that state."""
        first = claimed.first_attempt_at or attempted_at
        values: dict = {"attempts": claimed.attempts + 1, "first_attempt_at": first, "lease_until": None}
        if isinstance(outcome, Delivered):
            values.update(state="delivered", delivered_at=attempted_at, next_attempt_at=None, last_error=None)
        elif isinstance(outcome, Failed):
            values.update(state="dead", next_attempt_at=None, last_error=outcome.error)
        else:
            when = next_attempt(claimed.attempts + 1, first, attempted_at, outcome.after, self.rng)
            values.update(state="failed" if when else "dead", next_attempt_at=when, last_error=outcome.error)
        label = {Delivered: "delivered", Failed: "failed", Retry: "retry"}[type(outcome)]
        with self.engine.execution_options(**WRITE).begin() as conn:
            conn.execute(insert(delivery_attempts).values(
                delivery_id=claimed.id, attempted_at=attempted_at, duration_ms=duration_ms, outcome=label,
                status_code=getattr(outcome, "status_code", None), error=getattr(outcome, "error", None)))
            conn.execute(update(deliveries).where(deliveries.c.id == claimed.id,
                                                  deliveries.c.lease_until == claimed.lease_until).values(**values))
            if isinstance(outcome, Failed) and outcome.disable_subscription:
                conn.execute(update(subscriptions).where(subscriptions.c.id == claimed.subscription_id)
                             .values(disabled_at=attempted_at, disabled_reason=outcome.error[:300]))
        return values["state"]

    def claim_test(self, subscription_id: str, now: datetime) -> Claimed:
        """A test delivery, created already claimed so that it is sent right now by the caller."""
        claimed = Claimed(str(uuid.uuid4()), None, subscription_id, "test", "channel", 0, None, now + self.lease)
        with self.engine.execution_options(**WRITE).begin() as conn:
            conn.execute(insert(deliveries).values(
                id=claimed.id, alert_id=None, subscription_id=subscription_id, kind="test", target="channel",
                state="pending", attempts=0, created_at=now, next_attempt_at=now, lease_until=claimed.lease_until))
        return claimed

    def escalate_due(self, now: datetime) -> int:
        """Queue an escalation for each open critical alert left unacknowledged past its subscription's limit."""
        query = (select(deliveries.c.alert_id, deliveries.c.subscription_id, alerts.c.raised_at,
                        subscriptions.c.escalate_after_seconds)
                 .join(alerts, alerts.c.id == deliveries.c.alert_id)
                 .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                 .where(deliveries.c.kind == "raised", alerts.c.state == "open", alerts.c.severity == "critical",
                        subscriptions.c.escalate_after_seconds.is_not(None), subscriptions.c.deleted_at.is_(None)))
        queued = 0
        with self.engine.execution_options(**WRITE).begin() as conn:
            insert_ = pg_insert if self._postgres else sqlite_insert
            for row in conn.execute(query).all():
                if row.raised_at + timedelta(seconds=row.escalate_after_seconds) > now:
                    continue
                done = conn.execute(insert_(deliveries).values(
                    id=str(uuid.uuid4()), alert_id=row.alert_id, subscription_id=row.subscription_id,
                    kind="escalated", target="escalation", state="pending", attempts=0, created_at=now,
                    next_attempt_at=now).on_conflict_do_nothing(index_elements=["alert_id", "subscription_id", "kind"])
                    .returning(deliveries.c.id)).first()
                queued += done is not None
        return queued

    def _message(self, claimed: Claimed, include_person: bool) -> AlertMessage:
        if claimed.alert_id is None:
            return test_message(claimed.id)
        with self.engine.connect() as conn:
            alert = conn.execute(select(alerts).where(alerts.c.id == claimed.alert_id)).one()
            event = conn.execute(select(events_table.c.type, events_table.c.occurred_at)
                                 .where(events_table.c.event_id == alert.event_id)).first() if alert.event_id else None
        return AlertMessage(claimed.kind, claimed.id, alert.id, alert.rule, alert.severity, alert.title, alert.case_id,
                            f"{self.public_url}/cases/{alert.case_id}", alert.event_id,
                            event.type if event else None, event.occurred_at if event else None, alert.due_at,
                            alert.late, self.person_name(alert.case_id) if include_person else None)

    # ---- sending ----
    async def deliver(self, claimed: Claimed) -> str:
        """Render and send one claimed delivery and record the attempt; never lets a failure pass unrecorded."""
        now = self.clock.now()
        started = time.perf_counter()
        try:
            sub = await asyncio.to_thread(self.subs.record, claimed.subscription_id)
            if sub is None or not sub.active:
                outcome: Outcome = Failed("subscription deleted or disabled")
            else:
                channel = sub.escalate_to if claimed.target == "escalation" else sub.channel
                message = await asyncio.to_thread(self._message, claimed, sub.include_personal_data)
                rendered = channels.render(channel, message, sub.secret, now, self.smtp)
                outcome = await channels.send(self.client, rendered, now, self.smtp, self.send_timeout)
        except Exception as exc:  # a bug or outage while preparing: recorded and retried, never swallowed
            log.exception("delivery %s could not be prepared", claimed.id)
            outcome = Retry(f"internal error: {type(exc).__name__}")
        duration = int((time.perf_counter() - started) * 1000)
        return await asyncio.to_thread(self.record, claimed, now, duration, outcome)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, follow_redirects=False,
                                             limits=httpx.Limits(max_connections=100, max_keepalive_connections=50))
        return self._client

    async def _bounded(self, semaphore: asyncio.Semaphore, claimed: Claimed) -> str:
        async with semaphore:
            return await self.deliver(claimed)

    async def run_once(self) -> int:
        """Claim and send one batch of due deliveries; returns how many were attempted."""
        semaphore = asyncio.Semaphore(self.concurrency)
        claimed = await asyncio.to_thread(self.claim, self.clock.now())
        results = await asyncio.gather(*(self._bounded(semaphore, c) for c in claimed), return_exceptions=True)
        for c, result in zip(claimed, results):
            if isinstance(result, BaseException):  # recording itself failed: the lease expires and it is retried
                log.error("delivery %s: attempt not recorded (%s); will retry after lease", c.id, result)
        return len(claimed)

    async def run_forever(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        listener = self._start_listener(stop) if self._postgres else None
        stopper = asyncio.create_task(self._wake_when(stop))
        try:
            while not stop.is_set():
                try:
                    await asyncio.to_thread(self.escalate_due, self.clock.now())
                    if await self.run_once() >= self.batch:
                        continue
                except Exception:  # database down: log, wait, go on (nothing is lost: state is in the rows)
                    log.exception("delivery loop iteration failed")
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            stopper.cancel()
            if listener:
                listener.join(timeout=5)
            await self.aclose()

    async def _wake_when(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    def wake(self, *_args) -> None:
        """Called after a commit, from any thread: start sending now rather than at the next poll."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def _start_listener(self, stop: asyncio.Event) -> threading.Thread:
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

        def listen() -> None:
            while not stop.is_set():
                try:
                    with psycopg.connect(url, autocommit=True) as conn:
                        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                        while not stop.is_set():
                            for _ in conn.notifies(timeout=1.0):
                                self.wake()
                except psycopg.Error:
                    log.warning("outbox listener lost its connection; polling until it is back")
                    time.sleep(1)

        thread = threading.Thread(target=listen, name="vigil-outbox-listener", daemon=True)
        thread.start()
        return thread

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
