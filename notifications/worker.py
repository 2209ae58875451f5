"""The delivery worker: sends claimed deliveries concurrently, records every attempt, never waits on a slow one."""
from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Callable, Collection, Sequence

import httpx
from sqlalchemy import Engine

from events.clock import Clock
from events.i18n import from_json, translated

from . import ack_tokens, channels, wake as cross_process
from .channels.base import Failed, Outcome, unprepared
from .channels.email import SmtpSettings
from .delivery_store import Attempt, Claimed, DeliveryStore
from .http_sender import AiohttpSender, HttpxSender, Sender
from .message import AlertMessage, CheckpointMessage, Message, test_message
from .outbox import NOTIFY_CHANNEL, HandOff, Handed
from .subscriptions import Subscriptions

log = logging.getLogger("vigil.worker")
OPENED_CHANNELS = 2048  # opened subscription channels kept, most recently used
RECORD_BATCH = 500  # attempts recorded in one transaction, at most
LINGER_FROM = 4  # outcomes taken plus sends still running that make a burst, whose recording waits record_linger


@dataclass
class _Run:
    """What one run_forever shares with hand-offs arriving from other threads."""
    inflight: set[asyncio.Task]
    results: asyncio.Queue
    sending: asyncio.Semaphore
    stop: asyncio.Event


def unsendable(message: Message, channel_kind: str) -> str | None:
    """Why a message must not be sent through this channel (recorded as a permanent failure), or None."""
    if isinstance(message, CheckpointMessage):
        if channel_kind != "webhook":
            return "log.checkpoint is sent to webhook channels only"
        if message.checkpoint is None:
            return f"the log has no checkpoint of size {message.tree_size}"
    return None


class DeliveryWorker:
    def __init__(self, engine: Engine, clock: Clock, subs: Subscriptions, public_url: str, smtp: SmtpSettings,
                 person_name: Callable[[str], str | None], batch: int = 100, concurrency: int = 64,
                 lease: timedelta = timedelta(seconds=60), poll_seconds: float = 1.0,
                 rng: random.Random | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 send_timeout: float = 10.0, allow_private_networks: bool = False,
                 on_recorded: Callable[[Sequence[Attempt], list[str]], None] | None = None,
                 case_zones: Callable[[Collection[str]], dict[str, str | None]] | None = None,
                 beat_seconds: float = 1.0, stale_after: timedelta = timedelta(seconds=5),
                 checkpoint_copy: Callable[[int], dict | None] | None = None, ack_key: bytes | None = None,
                 record_linger: float = 0.02, claim_linger: float = 0.01):
        self.store = DeliveryStore(engine, lease, rng, stale_after=stale_after)
        self.engine, self.clock, self.subs = engine, clock, subs
        self.public_url, self.smtp, self.person_name = public_url.rstrip("/"), smtp, person_name
        self.case_zones = case_zones or (lambda case_ids: {})
        # A signed checkpoint of the log by tree size, as log.checkpoint sends it (origin, tree_size, root_hash,
        # checkpoint, log_key), or None; given by the composition root, which owns the log.
        self.checkpoint_copy = checkpoint_copy or (lambda size: None)
        self.ack_key = ack_key  # signs acknowledge links (ack_tokens); None: messages carry none
        self.batch, self.concurrency, self.poll_seconds = batch, concurrency, poll_seconds
        # Claimed ahead of sending, at most: enough to keep every send slot busy, few enough that the last one
        # starts long before its lease would run out even if every receiver hangs until the send timeout.
        self.prefetch = max(batch, 4 * concurrency)
        self.beat_seconds = beat_seconds
        self.send_timeout = send_timeout
        # aiohttp in service; httpx when a test hands in a transport (or swaps in HttpxSender to mock httpx).
        self.sender: Sender = (HttpxSender(transport) if transport is not None
                               else AiohttpSender(concurrency, allow_private_networks))
        self.allow_private_networks = allow_private_networks
        self.on_recorded = on_recorded  # told of every recorded attempt and the state it left (metrics)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._running: _Run | None = None  # while run_forever runs
        self._handing: set[asyncio.Task] = set()
        self._to_read: dict = {}  # handed-off delivery id -> its lease, waiting for the one read of a batch
        self._handed: list[Claimed] = []  # handed-off deliveries complete as the append wrote them, waiting likewise
        self._to_read_zones: dict[str, str | None] = {}
        self._starved = False  # the last claim was cut short by the prefetch limit: a freed slot claims again
        self._opened: dict[tuple[str, str, str], tuple] = {}
        self._postgres = engine.dialect.name == "postgresql"
        # SQLite: a process whose worker does not run pokes the one that does (notifications/wake.py).
        self._wake_address = (cross_process.address(engine.url.database) if engine.dialect.name == "sqlite"
                              else None)
        self._poker = cross_process.Poker(self._wake_address) if self._wake_address else None
        # When recording fails (the database blinked), try again before the lease runs out: an outcome already
        # known is kept, instead of the delivery being sent a second time once its lease has expired.
        self.record_retry_delays: tuple[float, ...] = (0.5, 1, 2, 4, 8)
        # In a burst (several outcomes at once, or several sends still on the wire) the recorder waits this long for
        # more outcomes to join the same transaction: a commit costs far more CPU than a row. Otherwise (sequential
        # alerts, a lone one) an outcome is recorded at once, so the window in which a crash makes a delivery be sent
        # again (under its own webhook-id) stays as short as before.
        self.record_linger = record_linger
        # Likewise for claims: after a claim that found a burst (several deliveries: appends of another process
        # come faster than claims, each commit waking this worker), the next claim waits until this long after it,
        # so one claim's transaction (and its fsync) leases several appends' deliveries. Sequential alerts, each
        # claimed alone, are claimed at once.
        self.claim_linger = claim_linger

    @property
    def allow_private_networks(self) -> bool:
        return self._allow_private

    @allow_private_networks.setter
    def allow_private_networks(self, allowed: bool) -> None:
        self._allow_private = allowed
        if isinstance(self.sender, AiohttpSender):
            self.sender.allow_private = allowed  # its resolver asks at every connection

    def escalate_due(self, now) -> int:
        return self.store.escalate_due(now)

    def claim_test(self, subscription_id: str, now) -> Claimed:
        return self.store.claim_test(subscription_id, now)

    # ---- one attempt ----
    def messages(self, claimed: Sequence[Claimed], zones: dict[str, str | None] | None = None
                 ) -> list[Message]:
        """The message of each claimed delivery; each case's zone (unless known) and person read once a batch, each
        checkpoint (with the cosignatures it has now) once a batch."""
        if zones is None:
            cases = {c.alert["case_id"] for c in claimed if c.alert is not None and c.alert["case_id"]}
            zones = self.case_zones(cases) if cases else {}
        names: dict[str, str | None] = {}
        copies: dict[int, dict | None] = {}
        out: list[Message] = []
        for c in claimed:
            if c.kind == "checkpoint":
                out.append(self._checkpoint_message(c, copies))
                continue
            if c.alert is None:
                out.append(test_message(c.id, c.language))
                continue
            a, person = c.alert, None
            if c.include_personal_data:
                if a["case_id"] not in names:
                    names[a["case_id"]] = self.person_name(a["case_id"])
                person = names[a["case_id"]]
            title = translated(from_json(a.get("title_phrase")), a["title"], c.language)
            out.append(AlertMessage(c.kind, c.id, c.alert_id, a["rule"], a["severity"], title, a["case_id"],
                                    f"{self.public_url}/cases/{a['case_id']}", a["event_id"], a["event_type"],
                                    a["occurred_at"], a["due_at"], bool(a["late"]), person,
                                    zones.get(a["case_id"]), a.get("date_precision", "exact"), c.language,
                                    subscription_id=c.subscription_id))
        return out

    def with_ack_link(self, message: Message, c: Claimed, channel_kind: str) -> Message:
        """The message with its acknowledge link, bound to this delivery's subscription and channel kind: only an
        alert that is raised or escalated has one (a withdrawal, test or checkpoint has nothing to acknowledge)."""
        if (self.ack_key is None or not isinstance(message, AlertMessage) or message.alert_id is None
                or message.kind not in ("raised", "escalated") or c.alert is None):
            return message
        token = ack_tokens.issue(self.ack_key, message.alert_id, c.subscription_id, channel_kind,
                                 c.alert["raised_at"] + ack_tokens.LIFETIME)
        return replace(message, ack_url=f"{self.public_url}/ack/{token}")

    def _checkpoint_message(self, c: Claimed, copies: dict[int, dict | None]) -> CheckpointMessage:
        size = c.tree_size if c.tree_size is not None else -1
        if size not in copies:
            copies[size] = self.checkpoint_copy(size) if size >= 0 else None
        found = copies[size] or {}
        return CheckpointMessage(c.id, size, found.get("origin"), found.get("root_hash"), found.get("checkpoint"),
                                 found.get("log_key"), f"{self.public_url}/v1/log/checkpoint")

    def _open(self, subscription_id: str, sealed: str, sealed_secret: str):
        """A subscription's channel and secret, opened once per sealed text: decrypting and validating them again
        for every alert cost more than rendering it. Kept only in this process's memory, which holds the master
        key anyway; a changed channel is a new sealed text, so a stale entry is never used."""
        key = (subscription_id, sealed, sealed_secret)
        opened = self._opened.pop(key, None)
        if opened is None:
            opened = self.subs.open_channel(subscription_id, sealed, sealed_secret)
        self._opened[key] = opened  # most recent last
        if len(self._opened) > OPENED_CHANNELS:
            self._opened.pop(next(iter(self._opened)))
        return opened

    def leased_ready(self, leases: dict, zones: dict[str, str | None],
                     handed: Sequence[Claimed] = ()) -> list[tuple[Claimed, Message]]:
        """Handed-off deliveries with their messages: those handed whole, and those read by id (id -> the lease each
        was written with)."""
        claimed = [*handed, *(self.store.leased(leases) if leases else ())]
        return list(zip(claimed, self.messages(claimed, zones))) if claimed else []

    def claim_ready(self, now, limit: int) -> list[tuple[Claimed, Message]]:
        """Lease due deliveries and make their messages (database work: run it off the event loop)."""
        claimed = self.store.claim(now, limit)
        return list(zip(claimed, self.messages(claimed))) if claimed else []

    async def attempt(self, c: Claimed, message: Message | None = None) -> Attempt:
        """Render and send one delivery; any failure becomes a recorded outcome, never an escaped exception."""
        now = self.clock.now()
        started = time.perf_counter()
        kind = "unknown"
        try:
            sealed = c.sealed_escalate_to if c.target == "escalation" else c.sealed_channel
            if not c.subscription_active or sealed is None:
                outcome: Outcome = Failed("subscription deleted or disabled")
            else:
                channel, secret = self._open(c.subscription_id, sealed, c.sealed_secret)
                kind = channel.kind
                if message is None:
                    message = (await asyncio.to_thread(self.messages, [c]))[0]
                refused = unsendable(message, kind)
                if refused is not None:
                    outcome = Failed(refused)
                else:
                    message = self.with_ack_link(message, c, kind)
                    rendered = channels.render(channel, message, secret, now, self.smtp)
                    outcome = await channels.send(self.sender, rendered, now, self.smtp, self.send_timeout,
                                                  self.allow_private_networks)
        except Exception as exc:  # an outage is retried; a bug is recorded as one, visible in /v1/deliveries
            log.exception("delivery %s could not be prepared", c.id)
            outcome = unprepared(exc)
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

    # ---- batches (tests and tools) ----
    async def run_once(self) -> int:
        """Claim one batch, send it, and record it before returning; returns how many were attempted."""
        ready = await asyncio.to_thread(self.claim_ready, self.clock.now(), self.batch)
        if ready:
            sending = asyncio.Semaphore(self.concurrency)
            attempts = await asyncio.gather(*(self._attempt_within(sending, c, m) for c, m in ready))
            await asyncio.to_thread(self.record, attempts)
        return len(ready)

    # ---- the long-running loop ----
    async def run_forever(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        results: asyncio.Queue = asyncio.Queue()
        inflight: set[asyncio.Task] = set()
        sending = asyncio.Semaphore(self.concurrency)
        self._running = _Run(inflight, results, sending, stop)
        listener = self._start_listener(stop) if self._postgres else None
        datagrams = cross_process.Listener(self._wake_address, self._wake.set) if self._wake_address else None
        if datagrams is not None and not datagrams.open(self._loop):
            log.info("another worker listens for wake-ups on this database; this one claims at each poll")
        stopper = asyncio.create_task(self._wake_when(stop))
        beater = asyncio.create_task(self._beat_until(stop))
        recorder = asyncio.create_task(self._record_from(results, inflight))
        burst_at = -1e9  # time.monotonic() of the last claim that found a burst
        try:
            while not stop.is_set():
                if self.claim_linger > 0 and (wait := burst_at + self.claim_linger - time.monotonic()) > 0:
                    await asyncio.sleep(wait)  # a burst: let more commits join this claim
                # Cleared before claiming, never after: a commit that lands while the claim runs sets it again, so
                # its wake-up is not erased and the wait below returns at once.
                self._wake.clear()
                more = False
                try:
                    room = self.prefetch - len(inflight)
                    self._starved = room <= 0
                    if room > 0:
                        claimed_at = time.monotonic()
                        ready = await asyncio.to_thread(self.claim_ready, self.clock.now(), room)
                        if len(ready) > 1:
                            burst_at = claimed_at
                        self._start_sending(ready)
                        more = self._starved = len(ready) == room
                except Exception:  # database down: log, wait, go on (the rows keep the state)
                    log.exception("delivery loop iteration failed")
                if more:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except asyncio.TimeoutError:
                    if datagrams is not None and not datagrams.listening:
                        datagrams.open(self._loop)  # the worker that listened may have stopped
        finally:
            self._running = None
            if datagrams is not None:
                datagrams.close()
            stopper.cancel()
            if inflight:  # give sends a moment; the leases of unrecorded ones are given back below
                _, pending = await asyncio.wait(inflight, timeout=2)
                for task in pending:
                    task.cancel()
            await results.put(None)
            await recorder
            beater.cancel()
            try:
                released = await asyncio.to_thread(self.store.leave)
                if released:
                    log.info("gave back %d unsent deliveries for the next worker", released)
            except Exception:  # the database is gone: the heartbeat goes stale and others take them over
                log.warning("could not give back leases at shutdown; they are taken over once this worker's "
                            "heartbeat is stale")
            if listener:
                listener.join(timeout=5)
            await self.aclose()

    def close(self) -> None:
        """Let go of the wake-up socket (the container's close)."""
        if self._poker is not None:
            self._poker.close()

    def _start_sending(self, ready: list[tuple[Claimed, Message]]) -> None:
        run = self._running
        for c, message in ready:
            task = asyncio.create_task(self._send_to(run.sending, c, message, run.results))
            run.inflight.add(task)
            task.add_done_callback(lambda t: self._released(t, run.inflight))

    # ---- hand-off: deliveries an append of this process wrote already leased to this worker ----
    def handoff(self, now) -> HandOff | None:
        """Asked inside an append's transaction: may its deliveries be leased to this worker? Only while the loop
        runs and has room; otherwise they wait for a claim like any other."""
        running = self._running
        if running is None or running.stop.is_set() or len(running.inflight) >= self.prefetch:
            return None
        return HandOff(self.store.worker_id, now + self.store.lease, self.take)

    def take(self, handed: list[Handed], lease_until, zones: dict[str, str | None]) -> None:
        """After the append's commit, from any thread: send these now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._take_here, handed, lease_until, zones)

    def _take_here(self, handed: list[Handed], lease_until, zones: dict[str, str | None]) -> None:
        if self._running is None:
            return  # stopping: leave() gives their leases back
        # Hand-offs arriving together (a group commit answers many appends at once) go out as one batch, and those
        # handed by id are read in one query.
        first = not self._to_read and not self._handed
        for item in handed:
            if isinstance(item, str):
                self._to_read[item] = lease_until
            else:
                self._handed.append(item)
        self._to_read_zones.update(zones)
        if first:
            task = asyncio.create_task(self._send_handed())
            self._handing.add(task)
            task.add_done_callback(self._handing.discard)

    async def _send_handed(self) -> None:
        leases, zones, handed = self._to_read, self._to_read_zones, self._handed
        self._to_read, self._to_read_zones, self._handed = {}, {}, []
        try:
            if leases or any(c.include_personal_data for c in handed):  # the database is asked: off the loop
                ready = await asyncio.to_thread(self.leased_ready, leases, zones, handed)
            else:
                ready = self.leased_ready(leases, zones, handed)
        except Exception:  # the read failed: their leases lapse with this worker's or run out, then a claim
            log.exception("could not read %d handed-off deliveries; they wait for a claim", len(leases) + len(handed))
            return
        if self._running is not None:
            self._start_sending(ready)

    async def _attempt_within(self, sending: asyncio.Semaphore, c: Claimed, message: Message) -> Attempt:
        async with sending:
            return await self.attempt(c, message)

    async def _send_to(self, sending: asyncio.Semaphore, c: Claimed, message: Message,
                       results: asyncio.Queue) -> None:
        await results.put(await self._attempt_within(sending, c, message))

    def _released(self, task: asyncio.Task, inflight: set) -> None:
        inflight.discard(task)
        # Room for more: claim again without waiting for the poll, but only if the limit left some unclaimed (or
        # turned a hand-off away, whose commit woke the loop into a claim that found no room). Otherwise every
        # finished send would cost a write transaction that finds nothing.
        if self._starved and len(inflight) < self.prefetch // 2 and self._wake is not None:
            self._wake.set()

    async def _beat_until(self, stop: asyncio.Event) -> None:
        """Keep this worker's leases its own while it lives; a missed beat is logged, the next one tries again."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.store.beat, self.clock.now())
            except Exception:
                log.warning("worker heartbeat failed; trying again in %s s", self.beat_seconds)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.beat_seconds)
            except asyncio.TimeoutError:
                pass

    async def _record_from(self, results: asyncio.Queue, inflight: set[asyncio.Task] | None = None) -> None:
        """Write attempts as they come, many per transaction: while more sends are in flight, after a short wait
        for their outcomes (record_linger)."""
        done = False
        while not done:
            batch = [await results.get()]
            while not results.empty() and len(batch) < RECORD_BATCH:
                batch.append(results.get_nowait())
            if (self.record_linger > 0 and inflight is not None and None not in batch and len(batch) < RECORD_BATCH
                    and self._busy(inflight, len(batch))):
                await asyncio.sleep(self.record_linger)
                while not results.empty() and len(batch) < RECORD_BATCH:
                    batch.append(results.get_nowait())
            done = None in batch
            attempts = [a for a in batch if a is not None]
            if attempts:
                await self._record_known(attempts)

    @staticmethod
    def _busy(inflight: set[asyncio.Task], taken: int) -> bool:
        """Whether this is a burst: the outcomes just taken and the sends still running (a task is done as soon as
        it has queued its outcome) are LINGER_FROM or more, so waiting on more outcomes saves transactions."""
        running = taken
        for task in inflight:
            if running >= LINGER_FROM:
                break
            running += not task.done()
        return running >= LINGER_FROM

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
        """Called after a commit, from any thread: start sending now rather than at the next poll; when this
        process runs no worker, tell the `vigil worker` on the same SQLite file instead."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)
        elif self._poker is not None:
            self._poker.poke()

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
        await self.sender.aclose()
