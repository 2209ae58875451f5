"""The delivery worker: sends claimed deliveries concurrently, records every attempt, never waits on a slow one."""
from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from datetime import timedelta
from typing import Callable, Sequence

import httpx
from sqlalchemy import Engine

from events.clock import Clock

from . import channels
from .channels.base import Failed, Outcome, Retry
from .channels.email import SmtpSettings
from .delivery_store import Attempt, Claimed, DeliveryStore
from .message import AlertMessage, test_message
from .outbox import NOTIFY_CHANNEL
from .subscriptions import Subscriptions

log = logging.getLogger("vigil.worker")
CLIENT_SHARDS = 4


class DeliveryWorker:
    def __init__(self, engine: Engine, clock: Clock, subs: Subscriptions, public_url: str, smtp: SmtpSettings,
                 person_name: Callable[[str], str | None], batch: int = 100, concurrency: int = 16,
                 lease: timedelta = timedelta(seconds=60), poll_seconds: float = 1.0,
                 rng: random.Random | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 send_timeout: float = 10.0, allow_private_networks: bool = False,
                 on_recorded: Callable[[Sequence[Attempt], list[str]], None] | None = None,
                 case_zone: Callable[[str], str | None] | None = None):
        self.store = DeliveryStore(engine, lease, rng)
        self.engine, self.clock, self.subs = engine, clock, subs
        self.public_url, self.smtp, self.person_name = public_url.rstrip("/"), smtp, person_name
        self.case_zone = case_zone or (lambda case_id: None)
        self.batch, self.concurrency, self.poll_seconds = batch, concurrency, poll_seconds
        self.send_timeout, self.allow_private_networks = send_timeout, allow_private_networks
        self._transport = transport
        self.on_recorded = on_recorded  # told of every recorded attempt and the state it left (metrics)
        self._clients: list[httpx.AsyncClient] = []
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._next_client = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._postgres = engine.dialect.name == "postgresql"
        # When recording fails (the database blinked), try again before the lease runs out: an outcome already
        # known is kept, instead of the delivery being sent a second time once its lease has expired.
        self.record_retry_delays: tuple[float, ...] = (0.5, 1, 2, 4, 8)

    def escalate_due(self, now) -> int:
        return self.store.escalate_due(now)

    def claim_test(self, subscription_id: str, now) -> Claimed:
        return self.store.claim_test(subscription_id, now)

    # ---- one attempt ----
    def _message(self, c: Claimed) -> AlertMessage:
        if c.alert is None:
            return test_message(c.id)
        a = c.alert
        person = self.person_name(a["case_id"]) if c.include_personal_data else None
        return AlertMessage(c.kind, c.id, c.alert_id, a["rule"], a["severity"], a["title"], a["case_id"],
                            f"{self.public_url}/cases/{a['case_id']}", a["event_id"], a["event_type"],
                            a["occurred_at"], a["due_at"], bool(a["late"]), person,
                            self.case_zone(a["case_id"]) if a["case_id"] else None, a.get("date_precision", "exact"))

    async def attempt(self, c: Claimed) -> Attempt:
        """Render and send one delivery; any failure becomes a recorded outcome, never an escaped exception."""
        now = self.clock.now()
        started = time.perf_counter()
        kind = "unknown"
        try:
            sealed = c.sealed_escalate_to if c.target == "escalation" else c.sealed_channel
            if not c.subscription_active or sealed is None:
                outcome: Outcome = Failed("subscription deleted or disabled")
            else:
                channel, secret = self.subs.open_channel(c.subscription_id, sealed, c.sealed_secret)
                kind = channel.kind
                message = await asyncio.to_thread(self._message, c) if c.include_personal_data else self._message(c)
                rendered = channels.render(channel, message, secret, now, self.smtp)
                outcome = await channels.send(self.client, rendered, now, self.smtp, self.send_timeout,
                                              self.allow_private_networks)
        except Exception as exc:  # a bug or outage while preparing: recorded and retried
            log.exception("delivery %s could not be prepared", c.id)
            outcome = Retry(f"internal error: {type(exc).__name__}")
        return Attempt(c, now, int((time.perf_counter() - started) * 1000), outcome, kind)

    async def deliver(self, c: Claimed) -> str:
        """Send one delivery now and record it (the test endpoint)."""
        attempt = await self.attempt(c)
        return (await asyncio.to_thread(self.record, [attempt]))[0]

    def record(self, attempts: Sequence[Attempt]) -> list[str]:
        """Store the attempts (one transaction), then tell the hook; returns the states they left."""
        states = self.store.record(attempts)
        if self.on_recorded is not None:
            self.on_recorded(attempts, states)
        return states

    @property
    def client(self) -> httpx.AsyncClient:
        """One of a few HTTP clients, in turn: each scans its whole pool before every request (httpcore polls
        every kept-alive socket, encode/httpcore#928), so several small pools cost less than one large one."""
        loop = asyncio.get_running_loop()
        if self._clients and self._client_loop is not loop:
            # A client's connections belong to the loop that made it; a caller on another loop (a test
            # harness, a one-off command) gets its own rather than a RuntimeError at send time.
            self._clients = []
        if not self._clients:
            self._client_loop = loop
            per_client = max(1, self.concurrency // CLIENT_SHARDS)
            self._clients = [httpx.AsyncClient(transport=self._transport, follow_redirects=False,
                                               limits=httpx.Limits(max_connections=per_client,
                                                                   max_keepalive_connections=per_client))
                             for _ in range(CLIENT_SHARDS)]
        self._next_client = (self._next_client + 1) % len(self._clients)
        return self._clients[self._next_client]

    # ---- batches (tests and tools) ----
    async def run_once(self) -> int:
        """Claim one batch, send it, and record it before returning; returns how many were attempted."""
        claimed = await asyncio.to_thread(self.store.claim, self.clock.now(), self.batch)
        if claimed:
            attempts = await asyncio.gather(*(self.attempt(c) for c in claimed))
            await asyncio.to_thread(self.record, attempts)
        return len(claimed)

    # ---- the long-running loop ----
    async def run_forever(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        results: asyncio.Queue = asyncio.Queue()
        inflight: set[asyncio.Task] = set()
        listener = self._start_listener(stop) if self._postgres else None
        stopper = asyncio.create_task(self._wake_when(stop))
        recorder = asyncio.create_task(self._record_from(results))
        try:
            while not stop.is_set():
                # Cleared before claiming, never after: a commit that lands while the claim runs sets it again, so
                # its wake-up is not erased and the wait below returns at once.
                self._wake.clear()
                more = False
                try:
                    now = self.clock.now()
                    room = min(self.batch, self.concurrency - len(inflight))
                    if room > 0:
                        claimed = await asyncio.to_thread(self.store.claim, now, room)
                        for c in claimed:
                            task = asyncio.create_task(self._send_to(c, results))
                            inflight.add(task)
                            task.add_done_callback(lambda t: self._released(t, inflight))
                        more = len(claimed) == room
                except Exception:  # database down: log, wait, go on (the rows keep the state)
                    log.exception("delivery loop iteration failed")
                if more:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            stopper.cancel()
            if inflight:  # give sends a moment; unrecorded ones are retried once their lease runs out
                _, pending = await asyncio.wait(inflight, timeout=2)
                for task in pending:
                    task.cancel()
            await results.put(None)
            await recorder
            if listener:
                listener.join(timeout=5)
            await self.aclose()

    async def _send_to(self, c: Claimed, results: asyncio.Queue) -> None:
        await results.put(await self.attempt(c))

    def _released(self, task: asyncio.Task, inflight: set) -> None:
        inflight.discard(task)
        if len(inflight) < self.concurrency // 2 and self._wake is not None:
            self._wake.set()  # room for more: claim again without waiting for the poll

    async def _record_from(self, results: asyncio.Queue) -> None:
        """Write attempts as they come, many per transaction."""
        done = False
        while not done:
            batch = [await results.get()]
            while not results.empty() and len(batch) < 500:
                batch.append(results.get_nowait())
            done = None in batch
            attempts = [a for a in batch if a is not None]
            if attempts:
                await self._record_known(attempts)

    async def _record_known(self, attempts: list[Attempt]) -> None:
        """Record attempts whose outcome is known, trying again a few times (well within the lease) before giving
        them up: given up, their leases expire and they are sent again (at least once, never lost)."""
        for delay in (*self.record_retry_delays, None):
            try:
                await asyncio.to_thread(self.record, attempts)
                return
            except Exception:
                if delay is None:
                    log.exception("could not record %d attempts; they will be sent again", len(attempts))
                    return
                log.warning("could not record %d attempts; trying again in %s s", len(attempts), delay)
                await asyncio.sleep(delay)

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
        clients, self._clients = self._clients, []
        for client in clients:
            await client.aclose()
