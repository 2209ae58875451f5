"""The event store: one transaction per append, optimistic concurrency, idempotency, hash chain, commit-ordered positions."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Literal, Protocol, Sequence, TypeVar

from sqlalchemy import Connection, Engine, and_, select
from sqlalchemy.exc import IntegrityError

from .catalogue import schema_version
from .clock import Clock
from .transactions import AppendConnectionLost, appending_raw
from .fastsql import DeferredWriteFailed, Raw
from .compact_json import compact_sorted
from .hashchain import GENESIS, ChainLink, VerifyResult, canonical_bytes, chain_hash, verify_chain
from .group_commit import GroupCommit, Outcome
from .log_tree import NEXT_INDEX, Frontier, LogTree
from .recent import Recent
from .records import AppendResult, StoredEvent, stored_event
from .utc import iso, iso_and_db
from .tables import events as events_table

APPEND_LOCK_KEY = 0x56494749  # "VIGI": the advisory lock that orders appends on PostgreSQL
TAKE_APPEND_LOCK = f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"  # no parameters: it rides with BEGIN


INSERT_EVENT = (
    "INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, date_precision, "
    "recorded_at, actor, data, source, idempotency_key, request_hash, prev_hash, hash, log_index) VALUES (:event_id, "
    ":stream_id, :version, :type, :schema_version, :occurred_at, :date_precision, :recorded_at, :actor, :data, :source, "
    ":idempotency_key, :request_hash, :prev_hash, :hash, {log_index}) RETURNING position, log_index"
)
# The next leaf of the Merkle log, read in the insert itself (the unique index answers it): dense because appends
# hold the lock that orders them.
INSERT_LOGGED = INSERT_EVENT.format(log_index=f"({NEXT_INDEX})")
INSERT_UNLOGGED = INSERT_EVENT.format(log_index="NULL")
# SQLite: the same row with its leaf's index bound (known to the store while only it writes, see
# `EventStore._others_wrote`) and its values by position; its position is the cursor's lastrowid, so nothing is
# returned or looked up by the insert.
INSERT_KNOWN_SQLITE = (
    "INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, date_precision, "
    "recorded_at, actor, data, source, idempotency_key, request_hash, prev_hash, hash, log_index) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
# The same row inserted only where a condition holds (no row returned, nothing written, where it does not).
INSERT_WHERE = (
    "INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, date_precision, "
    "recorded_at, actor, data, source, idempotency_key, request_hash, prev_hash, hash, log_index) SELECT :event_id, "
    ":stream_id, :version, :type, :schema_version, :occurred_at, :date_precision, :recorded_at, :actor, :data, :source, "
    ":idempotency_key, :request_hash, :prev_hash, :hash, {log_index} {where} RETURNING position, log_index"
)
# PostgreSQL: inserted only where the leaf was planned (LogTree.insert_planned, which writes its subtrees in the
# same statement): a round trip fewer per append than a separate insert of the nodes.
INSERT_PLANNED = INSERT_WHERE.format(log_index="next.i", where="FROM next WHERE next.i = :planned")
# The stream's head is still the one this store remembers committing (:head_version, :head_hash): the row exists
# and nothing follows it. Rows are never updated or deleted, so this is exactly "the head read now would be it",
# without the round trip that reads it; a database that went back (a restored backup) fails it too.
# Parameters of their own (PostgreSQL deduces one type for each, and would find two for :stream_id).
HEAD_IS_REMEMBERED = (
    "EXISTS (SELECT 1 FROM events WHERE stream_id = :head_stream AND version = :head_version AND hash = :head_hash) "
    "AND NOT EXISTS (SELECT 1 FROM events WHERE stream_id = :head_stream AND version > :head_version)")
INSERT_LOGGED_ON_HEAD = INSERT_WHERE.format(log_index=f"({NEXT_INDEX})", where=f"WHERE {HEAD_IS_REMEMBERED}")
INSERT_UNLOGGED_ON_HEAD = INSERT_WHERE.format(log_index="NULL", where=f"WHERE {HEAD_IS_REMEMBERED}")
NEXT_INDEX_ON_HEAD = f"SELECT i FROM ({NEXT_INDEX}) AS n WHERE {HEAD_IS_REMEMBERED}"
READ_HEAD = "SELECT version, hash FROM events WHERE stream_id = :s ORDER BY version DESC LIMIT 1"
# PostgreSQL: send unanswered statements in psycopg's pipeline mode (True), or keep them as text for the next
# answered statement's simple query (False; `Raw.begin`, `Raw.share`). Text measured cheaper on both sides: with
# 8 writers, client CPU per append 393 -> 281 µs, one sendto per append instead of five (see bench/results.md 9).
PIPELINES = False
KNOWN_HEADS = 10_000  # streams whose head each store remembers, so an append need not read it back

Head = tuple[int, str]  # (version, hash) of a stream's last event

# The statements that open an append's savepoint within a batch: the first opens it, each later one first releases
# the one before (PostgreSQL takes both in one round trip: without parameters, several statements may go at once;
# in pipeline mode, where each goes alone, they ride with the append's insert anyway).
OPEN_SAVEPOINT = ("SAVEPOINT vigil_append",)
NEXT_SAVEPOINT_POSTGRES = ("RELEASE SAVEPOINT vigil_append; SAVEPOINT vigil_append",)
NEXT_SAVEPOINT = ("RELEASE SAVEPOINT vigil_append", "SAVEPOINT vigil_append")
# PostgreSQL in pipelines: the next savepoint opens inside the one before, never released (a statement fewer per
# append; the COMMIT commits them all, and ROLLBACK TO names the innermost, the failing append's own). A batch
# nests MAX_BATCH deep at most.
NEXT_SAVEPOINT_PIPELINED = OPEN_SAVEPOINT


class StoreError(Exception):
    pass


class StreamNotFound(StoreError):
    pass


class ConcurrencyConflict(StoreError):
    def __init__(self, expected: int, actual: int):
        super().__init__(f"expected version {expected}, but the case is at version {actual}")
        self.expected, self.actual = expected, actual


class DuplicateMismatch(StoreError):
    """An `event_id` or `Idempotency-Key` was reused for a different request."""


class IdempotencyMismatch(DuplicateMismatch):
    """The caller's `Idempotency-Key` was already used for a request with another body."""


@dataclass(frozen=True)
class NewEvent:
    type: str
    occurred_at: datetime
    data: dict[str, Any]  # validated and JSON-ready; personal data already sealed
    date_precision: str = "exact"
    source: dict[str, Any] | None = None
    event_id: str | None = None


Folded = TypeVar("Folded")


@dataclass
class AppendContext:
    """What the store gives every step of one append: the fast statement runner, whether it is a quiet (bulk)
    load, and the callbacks to run once the append is durable."""
    raw: Raw
    quiet: bool = False  # a bulk import of history: projections and reminders still ahead yes, alerts no
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    frontier: Frontier | None = None  # the Merkle log's right edge once this append's leaves are in


@dataclass
class _Request:
    """One caller's append, as it waits in the group commit's queue."""
    stream_id: str
    new_events: Sequence[NewEvent]
    actor: str
    expected_version: int | None
    idempotency_key: str | None
    new_stream: bool
    before_insert: Callable[[Connection], None] | None
    quiet: bool
    request_hash: str | None
    context: AppendContext | None = None  # set once its steps run


class Projection(Protocol[Folded]):
    """The first step of an append, inside its transaction: fold the new events into the stored projection and
    return what the reactions need of it (for cases: the state before and after)."""

    def __call__(self, conn: Connection, stream_id: str, appended: Sequence[StoredEvent],
                 context: AppendContext) -> Folded: ...


class Reaction(Protocol[Folded]):
    """A later step, in the order given to the store, handed the projection's result (outbox, reminders)."""

    def __call__(self, conn: Connection, stream_id: str, appended: Sequence[StoredEvent], folded: Folded,
                 context: AppendContext) -> None: ...


_dumps = compact_sorted  # an event's data and source as stored: the same bytes the bulk path writes


def row_to_event(row: Any) -> StoredEvent:
    return StoredEvent(row.position, row.event_id, row.stream_id, row.version, row.type, row.schema_version,
                       row.occurred_at, row.date_precision, row.recorded_at, row.actor, row.data, row.source,
                       row.prev_hash, row.hash, row.log_index)


class EventStore:
    def __init__(self, engine: Engine, clock: Clock, projection: Projection | None = None,
                 reactions: Iterable[Reaction] = (), log: LogTree | None | Literal[False] = None):
        """Each append runs, in its transaction: the event insert with its leaf in the Merkle `log`, then
        `projection`, then each of `reactions` in order, each given what the projection returned.

        `log` is a LogTree of the store's own unless given; False appends without it, which only the benchmark
        that measures the tree's cost does (its events get no log_index, and `vigil verify` would say so)."""
        if reactions and projection is None:
            raise ValueError("reactions need a projection to react to")
        self.engine = engine
        self.clock = clock
        self.log: LogTree | None = LogTree() if log is None else (log or None)
        self.projection = projection
        self.reactions = list(reactions)
        self._postgres = engine.dialect.name == "postgresql"
        self._integrity_errors = (IntegrityError, engine.dialect.dbapi.IntegrityError)
        self._group: GroupCommit[_Request, list[AppendResult]] = GroupCommit(self._write_batch)
        # Each stream's head as this store last committed it; only a leader of a batch reads or changes it. On
        # PostgreSQL the insert's condition confirms it (a round trip saved). On SQLite it is used as read while
        # nothing has been written since this store's last batch but by that batch (see `_others_wrote`), and a
        # stream already written in the batch is read again.
        self._heads: Recent[str, Head] = Recent(KNOWN_HEADS)
        # SQLite: (append connection, its data_version, its total_changes) as this store's last batch left them.
        self._seen: tuple[Any, int, int] | None = None
        self._batch_streams: set[str] = set()
        self._last_shared = False  # PostgreSQL: whether the last batch held more than one append

    # ---- writing ----
    def append(self, stream_id: str, new_events: Sequence[NewEvent], *, actor: str,
               expected_version: int | None = None, idempotency_key: str | None = None,
               new_stream: bool = False, before_insert: Callable[[Connection], None] | None = None,
               quiet: bool = False, request_hash: str | None = None) -> list[AppendResult]:
        """Append events to one stream in one transaction; an idempotent retry returns the first results.

        Appends of other threads that arrive while another is being written share one commit (see
        `events/group_commit.py`), each in a savepoint of its own: it is still all or nothing, its failure is
        its caller's alone, and it returns only once the commit holding it is durable.

        `request_hash` identifies what an idempotent request asked for: a retry must carry the same one."""
        if not new_events:
            raise ValueError("nothing to append")
        request = _Request(stream_id, new_events, actor, expected_version, idempotency_key, new_stream,
                           before_insert, quiet, request_hash)
        try:
            return self._group.submit(request)
        except AppendConnectionLost:
            # The connection died (a database restart, say) before the commit was sent: nothing was written.
            return self._group.submit(request)

    def _write_batch(self, take: Callable[[], _Request | None]) -> list[Outcome[list[AppendResult]]]:
        """One transaction for the appends `take` hands out (see `_write_taken`).

        On PostgreSQL the statements whose answers are not needed (BEGIN and the lock, savepoints, projection
        writes) ride with the next statement that needs one, kept as text and sent in one simple query (see
        `Raw.begin`; psycopg's pipeline mode where PIPELINES is set): one round trip per append in a batch, two
        for a lone append (the insert, the COMMIT). If one of them fails, it surfaces later, with no telling whose it was: the whole transaction is
        rolled back (nothing of it was committed) and the same appends are written again, each statement
        answered before the next, so each failure is its own append's."""
        if not self._postgres:
            return self._write_taken(take, deferring=False)
        taken: list[_Request] = []

        def recording() -> _Request | None:
            request = take()
            if request is not None:
                taken.append(request)
            return request

        def shared() -> bool:
            # Others queued already, or the last batch was shared (under concurrent load the others are usually
            # still on their way back when the next batch begins): pipelines from the start.
            return self._last_shared or self._group.waiting()
        try:
            return self._write_taken(recording, deferring=True, waiting=shared)
        except DeferredWriteFailed:
            again = iter(taken)
            return self._write_taken(lambda: next(again, None), deferring=False, first_apart=True)
        finally:
            self._last_shared = len(taken) > 1

    def _write_taken(self, take: Callable[[], _Request | None], deferring: bool,
                     first_apart: bool = False,
                     waiting: Callable[[], bool] | None = None) -> list[Outcome[list[AppendResult]]]:
        """One transaction: the first append as a lone append would be (no savepoint: a lone append costs what it
        always did, and if it fails the transaction rolls back with it alone, before anyone else is taken), each
        later one in a savepoint of its own; `first_apart` puts the first in one too, for appends all taken
        already.

        `deferring` (PostgreSQL) keeps the unanswered statements for the next answered one (`Raw.begin`), shared
        once a second append joins (`Raw.share`). With PIPELINES, it sends them in pipelines instead: with
        `waiting`, only once another append shares the transaction (a lone append answers each statement as it
        goes, which costs it less client CPU than a pipeline does)."""
        outcomes: list[Outcome[list[AppendResult]]] = []
        contexts: list[AppendContext | None] = []
        savepoint = OPEN_SAVEPOINT
        # Sent as separate statements where they are deferred (a pipeline takes one statement at a time).
        if self._postgres:
            next_savepoint = NEXT_SAVEPOINT_PIPELINED if deferring else NEXT_SAVEPOINT_POSTGRES
        else:
            next_savepoint = NEXT_SAVEPOINT
        first = take()
        deferring_now = deferring and PIPELINES and (waiting is None or waiting())
        try:
            # The first append keeps its unanswered statements for the next answered one or the COMMIT (see
            # `Raw.begin`); if others join, they share that (`raw.share`).
            with appending_raw(self.engine, deferring_now, TAKE_APPEND_LOCK if self._postgres else None,
                               keeping=deferring and not deferring_now) as (conn, raw):
                if not self._postgres:
                    driver, data_version = conn.connection.driver_connection, raw.one("PRAGMA data_version")[0]
                    if self._others_wrote(driver, data_version):
                        self._heads.clear()
                        if self.log is not None:
                            self.log.forget()
                self._batch_streams.clear()
                request = first
                if not first_apart:
                    outcomes.append(Outcome(self._write(conn, raw, first)))
                    contexts.append(first.context)
                    request = take()
                if request is not None:  # others are waiting (or all were taken already): they share this commit
                    if deferring and not deferring_now:
                        raw.defer() if PIPELINES else raw.share()
                    try:
                        if not first_apart:
                            self._stage(first)
                        while request is not None:
                            outcomes.append(self._write_apart(conn, raw, request, savepoint))
                            contexts.append(request.context if outcomes[-1].error is None else None)
                            savepoint = next_savepoint
                            request = take()
                    finally:
                        # Still under the lock: no other writer may extend the tree from a batch's edge that is
                        # about to roll back.
                        if self.log is not None:
                            self.log.unstage()
                # Read under the append lock: a write on this connection by anyone else after it is released must
                # count as someone else's at the next batch (see `_others_wrote`); COMMIT leaves the count as it is.
                changes = 0 if self._postgres else driver.total_changes
        except self._integrity_errors as exc:
            # Only reachable if a writer bypassed the lock; surface it as a conflict, never a 500.
            self._forget_heads()
            raise ConcurrencyConflict(first.expected_version or 0, -1) from exc
        except BaseException:
            self._forget_heads()
            raise
        if not self._postgres:
            self._seen = (driver, data_version, changes)
        for outcome, context in zip(outcomes, contexts):
            if context is None:
                continue
            try:
                for callback in context.after_commit:
                    callback()
            except Exception as exc:  # its data is committed, but its caller must hear what failed after
                outcome.error = exc
        return outcomes

    def _others_wrote(self, driver: Any, data_version: int) -> bool:
        """SQLite, inside the batch's transaction: whether anything but this store's last batch may have written
        since it committed: another connection (another process, another writer of this one), as SQLite's
        data_version tells (it moves for every commit but the connection's own), or this same append connection
        for someone else (a bulk import, another store on the engine), as its count of changed rows tells."""
        return self._seen != (driver, data_version, driver.total_changes)

    def _forget_heads(self) -> None:
        """SQLite: a batch failed, so nothing it wrote counts; the heads are read afresh rather than reasoned about."""
        if not self._postgres:
            self._heads.clear()
            self._seen = None

    def _stage(self, request: _Request) -> None:
        """The next append of the batch extends the Merkle log from this one's edge, not yet committed."""
        if self.log is not None and request.context is not None and request.context.frontier is not None:
            self.log.stage(request.context.frontier)

    def _write_apart(self, conn: Connection, raw: Raw, request: _Request,
                     savepoint: Sequence[str]) -> Outcome[list[AppendResult]]:
        """One append of a batch, in a savepoint: rolled back alone if it fails, its error kept for its caller.

        The savepoint is left open, kept or rolled back to: the next append's `savepoint` statements release it
        (the previous append is then kept for good), or in pipelines open the next inside it (the next append's
        ROLLBACK TO then reaches its own only), and the batch's COMMIT releases the rest."""
        for statement in savepoint:
            raw.later(statement)
        try:
            results = self._write(conn, raw, request)
        except DeferredWriteFailed:
            raise  # not known to be this append's: the batch is written again (see `_write_batch`)
        except Exception as exc:
            # A broken connection makes this raise too, failing the whole batch: then nobody was written.
            raw.run("ROLLBACK TO SAVEPOINT vigil_append")
            self._heads.forget(request.stream_id)
            if isinstance(exc, self._integrity_errors):
                exc = ConcurrencyConflict(request.expected_version or 0, -1)
            return Outcome(error=exc)
        self._stage(request)
        return Outcome(results)

    def _write(self, conn: Connection, raw: Raw, request: _Request) -> list[AppendResult]:
        """The steps of one append, inside the batch's transaction and under the lock that orders appends."""
        request.context = None  # a retry after a lost connection starts afresh
        stream_id, new_events = request.stream_id, request.new_events
        idempotency_key, expected_version = request.idempotency_key, request.expected_version
        if idempotency_key is not None or any(e.event_id for e in new_events):
            earlier = self._earlier_results(conn, stream_id, new_events, idempotency_key, request.new_stream,
                                            request.request_hash)
            if earlier is not None:
                return earlier
        if self._postgres:
            # Trusted only as far as the insert's own condition confirms it (see HEAD_IS_REMEMBERED).
            head = None if request.new_stream else self._heads.get(stream_id)
            if head is not None and expected_version is not None and expected_version != head[0]:
                head = None  # a conflict only the database can confirm
            remembered = head is not None
        else:
            # Exact while nobody else has written (see `_others_wrote`), unless this batch already moved the stream.
            known = request.new_stream or stream_id in self._batch_streams
            head = None if known else self._heads.get(stream_id)
            self._batch_streams.add(stream_id)
            remembered = False
        if head is None:
            head = self._read_head(raw, stream_id)
        self._check(request, head)
        if request.before_insert is not None:
            request.before_insert(conn)
        context = request.context = AppendContext(raw, quiet=request.quiet)
        stored = self._insert(raw, request, head, remembered, context)
        if stored is None:  # another writer appended to the stream since (or the database went back): read it
            self._heads.forget(stream_id)
            head = self._read_head(raw, stream_id)
            self._check(request, head)
            stored = self._insert(raw, request, head, False, context)
        if self.projection is not None:
            folded = self.projection(conn, stream_id, stored, context)
            for reaction in self.reactions:
                reaction(conn, stream_id, stored, folded, context)
        return [AppendResult(e.event_id, e.stream_id, e.version, e.position, True, e.log_index) for e in stored]

    @staticmethod
    def _read_head(raw: Raw, stream_id: str) -> Head | None:
        row = raw.one(READ_HEAD, {"s": stream_id})
        return (row[0], row[1]) if row is not None else None

    @staticmethod
    def _check(request: _Request, head: Head | None) -> None:
        """Refuse the append if the stream's head is not what the request expects."""
        version = head[0] if head is not None else 0
        if request.new_stream and head is not None:
            raise ConcurrencyConflict(0, version)
        if not request.new_stream and head is None:
            raise StreamNotFound(request.stream_id)
        if request.expected_version is not None and request.expected_version != version:
            raise ConcurrencyConflict(request.expected_version, version)

    def _insert(self, raw: Raw, request: _Request, head: Head | None, remembered: bool,
                context: AppendContext) -> list[StoredEvent] | None:
        """Insert the request's events after `head`; None, with nothing written, if `head` was `remembered` and
        is no longer the stream's head."""
        stream_id, new_events, actor = request.stream_id, request.new_events, request.actor
        idempotency_key, request_hash = request.idempotency_key, request.request_hash
        version, prev_hash = head if head is not None else (0, GENESIS)
        recorded_at = self.clock.now()
        recorded_db = raw.time(recorded_at)  # kept by `raw` for the projection's row too
        recorded_iso = iso(recorded_at)
        stored: list[StoredEvent] = []
        unplanned: list[tuple[int, bytes]] = []  # (log_index, canonical bytes) of leaves still to write
        insert = INSERT_LOGGED if self.log is not None else INSERT_UNLOGGED
        insert_on_head = INSERT_LOGGED_ON_HEAD if self.log is not None else INSERT_UNLOGGED_ON_HEAD
        planned = self.log.planned() if self.log is not None and self._postgres else None
        # SQLite: the leaves' indexes as this store knows them (None: read in the insert), or no leaves at all.
        known_leaf = None
        if not self._postgres:
            known_leaf = self.log.next_index() if self.log is not None else -1
        for index, new in enumerate(new_events):
            version += 1
            event_id = new.event_id or str(uuid.uuid4())
            data_text = _dumps(new.data)
            source_text = _dumps(new.source) if new.source is not None else None
            schema = schema_version(new.type)
            occurred_iso, occurred_db = iso_and_db(new.occurred_at, raw.postgres)  # one conversion for both
            canonical = canonical_bytes([event_id, stream_id, version, new.type, schema, occurred_iso,
                                         new.date_precision, recorded_iso, actor, data_text, source_text])
            digest = chain_hash(prev_hash, canonical)
            if known_leaf is not None:
                log_index = known_leaf + index if known_leaf >= 0 else None
                first_key = index == 0 and idempotency_key is not None
                cursor = raw.execute(INSERT_KNOWN_SQLITE, (
                    event_id, stream_id, version, new.type, schema, occurred_db, new.date_precision, recorded_db,
                    actor, data_text, source_text, idempotency_key if first_key else None,
                    request_hash if first_key else None, prev_hash, digest, log_index))
                position = cursor.lastrowid
                cursor.close()
                if log_index is not None:
                    unplanned.append((log_index, canonical))
                stored.append(stored_event((position, event_id, stream_id, version, new.type, schema,
                                            new.occurred_at, new.date_precision, recorded_at, actor, data_text,
                                            source_text, prev_hash, digest, log_index)))
                prev_hash = digest
                continue
            params = {
                "event_id": event_id, "stream_id": stream_id, "version": version, "type": new.type,
                "schema_version": schema, "occurred_at": occurred_db,
                "date_precision": new.date_precision, "recorded_at": recorded_db, "actor": actor, "data": data_text, "source": source_text,
                "idempotency_key": idempotency_key if index == 0 else None,
                "request_hash": request_hash if index == 0 and idempotency_key is not None else None,
                "prev_hash": prev_hash, "hash": digest,
            }
            on_head = remembered and index == 0  # later events follow it under the same lock
            if on_head:
                params.update(head_stream=stream_id, head_version=version - 1, head_hash=prev_hash)
            row = None
            if planned is not None:
                row = self.log.insert_planned(raw, INSERT_PLANNED, params, planned, canonical,
                                              NEXT_INDEX_ON_HEAD if on_head else NEXT_INDEX)
                planned = planned if row is not None else None
            if row is None:
                row = raw.one(insert_on_head if on_head else insert, params)
                if row is None:  # the stream moved on (a plan that failed is told apart by trying without it)
                    return None
                if self.log is not None:
                    unplanned.append((row[1], canonical))
            position, log_index = row
            stored.append(stored_event((position, event_id, stream_id, version, new.type, schema, new.occurred_at,
                                        new.date_precision, recorded_at, actor, data_text, source_text, prev_hash,
                                        digest, log_index)))
            prev_hash = digest
        if self.log is not None:
            frontier = (self.log.extend(raw, unplanned[0][0], [c for _, c in unplanned]) if unplanned
                        else planned)
            context.frontier = frontier
            context.after_commit.append(lambda: self.log.remember(frontier))
        last: Head = (version, prev_hash)
        context.after_commit.append(lambda: self._heads.put(stream_id, last))
        return stored

    def _earlier_results(self, conn: Connection, stream_id: str, new_events: Sequence[NewEvent],
                         idempotency_key: str | None, new_stream: bool,
                         request_hash: str | None = None) -> list[AppendResult] | None:
        t = events_table
        first = None
        if idempotency_key is not None:
            first = conn.execute(select(t).where(t.c.idempotency_key == idempotency_key)).first()
            # A new stream gets a fresh id on every try, so only the event type can tell a retry apart.
            other_stream = first is not None and not new_stream and first.stream_id != stream_id
            other_body = (first is not None and request_hash is not None and first.request_hash is not None
                          and first.request_hash != request_hash)
            if first is not None and (other_stream or other_body or first.type != new_events[0].type):
                raise IdempotencyMismatch("Idempotency-Key was already used for a different request")
        ids = [e.event_id for e in new_events if e.event_id]
        if first is None and ids:
            # Looked up in this stream only: an id used in another case (another team's, say) is none of this
            # caller's business, and answering differently for it would tell them it exists.
            in_stream = (t.c.stream_id == stream_id)
            first = conn.execute(select(t).where(in_stream, t.c.event_id == ids[0])).first()
            if first is not None and first.type != new_events[0].type:
                raise DuplicateMismatch(f"event_id {ids[0]} already belongs to a different event in this case")
            if first is None and len(ids) > 1:
                clash = conn.execute(select(t.c.event_id).where(in_stream, t.c.event_id.in_(ids[1:]))).first()
                if clash is not None:
                    raise DuplicateMismatch(f"event_id {clash.event_id} already belongs to a different event "
                                            "in this case")
        if first is None:
            return None
        rows = conn.execute(
            select(t).where(and_(t.c.stream_id == first.stream_id, t.c.version >= first.version,
                                 t.c.version < first.version + len(new_events), t.c.recorded_at == first.recorded_at))
            .order_by(t.c.version)
        ).all()
        return [AppendResult(r.event_id, r.stream_id, r.version, r.position, False, r.log_index) for r in rows]

    # ---- reading ----
    def read_stream(self, stream_id: str, after_version: int = 0, limit: int | None = None,
                    conn: Connection | None = None) -> list[StoredEvent]:
        query = (select(events_table).where(events_table.c.stream_id == stream_id,
                                            events_table.c.version > after_version)
                 .order_by(events_table.c.version))
        if limit is not None:
            query = query.limit(limit)
        if conn is not None:
            return [row_to_event(r) for r in conn.execute(query)]
        with self.engine.connect() as own:
            return [row_to_event(r) for r in own.execute(query)]

    def read_all(self, after_position: int = 0, limit: int = 100, types: Sequence[str] | None = None,
                 stream_ids: Sequence[str] | None = None) -> list[StoredEvent]:
        query = select(events_table).where(events_table.c.position > after_position)
        if types:
            query = query.where(events_table.c.type.in_(list(types)))
        if stream_ids is not None:
            query = query.where(events_table.c.stream_id.in_(list(stream_ids)))
        query = query.order_by(events_table.c.position).limit(limit)
        with self.engine.connect() as conn:
            return [row_to_event(r) for r in conn.execute(query)]

    def stream_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(events_table.c.stream_id).distinct()).scalars())

    def verify(self, stream_id: str) -> VerifyResult:
        links = (ChainLink(e.version, e.prev_hash, e.hash, e.canonical()) for e in self.read_stream(stream_id))
        return verify_chain(links)
