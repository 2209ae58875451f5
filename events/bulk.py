"""Bulk append: the events of many streams in one transaction, with every guarantee of a single append."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Sequence

from sqlalchemy import Connection

from .catalogue import schema_version
from .compact_json import compact, compact_sorted
from .fastsql import Raw
from .hashchain import GENESIS
from .log_tree import NEXT_INDEX
from .records import StoredEvent, stored_event
from .store import (
    APPEND_LOCK_KEY, INSERT_EVENT, AppendContext, ConcurrencyConflict, EventStore, NewEvent, StreamNotFound,
)
from .transactions import AppendConnectionLost, appending
from .utc import from_db, iso, iso_and_db

# The store's insert, its log_index given (the whole batch's leaves are numbered once, under the lock) and
# nothing returned, so the rows go in one executemany.
INSERT_MANY = INSERT_EVENT.split(" RETURNING")[0].format(log_index=":log_index")
CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's limits on bound parameters


@dataclass(frozen=True)
class StreamBatch:
    """The events of one stream in a bulk append, each with its `event_id` set; `opens` if the first one opens
    the stream."""
    stream_id: str
    events: Sequence[NewEvent]
    opens: bool = False


@dataclass(frozen=True)
class Present:
    """An event already stored under an id a bulk append was given: how it was told apart from a retry."""
    type: str
    occurred_at: datetime
    data_text: str


@dataclass
class BulkResult:
    stored: dict[str, list[StoredEvent]]  # by stream, in version order
    present: dict[tuple[str, str], Present]  # (stream_id, event_id) already stored: skipped
    opened: list[str]  # streams this append opened


def bulk_append(store: EventStore, batches: Sequence[StreamBatch], *, actor: str, quiet: bool = True,
                before_insert: Callable[[Connection, BulkResult], None] | None = None) -> BulkResult:
    """Append every batch in one transaction: events already stored under their id are skipped (a re-run), the
    rest get versions, chain hashes, dense log indexes and their Merkle nodes; each stream is folded once and
    handed to the store's reactions (`quiet`: a load of history, which pages nobody)."""
    try:
        return _bulk(store, batches, actor, quiet, before_insert)
    except AppendConnectionLost:  # nothing was written: as EventStore.append, one more try
        return _bulk(store, batches, actor, quiet, before_insert)


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _in(names: str, count: int) -> str:
    return ", ".join(f":{names}{i}" for i in range(count))


def _heads(raw: Raw, stream_ids: list[str]) -> dict[str, tuple[int, str]]:
    heads: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(stream_ids):
        params = {f"s{i}": s for i, s in enumerate(chunk)}
        rows = raw.all("SELECT e.stream_id, e.version, e.hash FROM events e JOIN (SELECT stream_id, MAX(version) AS v "
                       f"FROM events WHERE stream_id IN ({_in('s', len(chunk))}) GROUP BY stream_id) h "
                       "ON e.stream_id = h.stream_id AND e.version = h.v", params)
        heads.update({r[0]: (r[1], r[2]) for r in rows})
    return heads


def _present(raw: Raw, wanted: set[tuple[str, str]], stream_ids: list[str]) -> dict[tuple[str, str], Present]:
    """Which of `wanted` (stream, event id) are stored already, read by stream (the unique index's first column)."""
    found: dict[tuple[str, str], Present] = {}
    for chunk in _chunks(stream_ids):
        params = {f"s{i}": s for i, s in enumerate(chunk)}
        rows = raw.all("SELECT stream_id, event_id, type, occurred_at, data FROM events "
                       f"WHERE stream_id IN ({_in('s', len(chunk))})", params)
        for stream_id, event_id, type_, occurred_at, data in rows:
            if (stream_id, event_id) in wanted:
                found[(stream_id, event_id)] = Present(type_, from_db(occurred_at), data)
    return found


def _bulk(store: EventStore, batches: Sequence[StreamBatch], actor: str, quiet: bool,
          before_insert: Callable[[Connection, BulkResult], None] | None) -> BulkResult:
    with appending(store.engine) as conn:
        raw = Raw(conn)
        if raw.postgres:
            raw.run("SELECT pg_advisory_xact_lock(:k)", {"k": APPEND_LOCK_KEY})
        heads = _heads(raw, [b.stream_id for b in batches])
        wanted = {(b.stream_id, e.event_id) for b in batches if b.stream_id in heads for e in b.events}
        present = _present(raw, wanted, [b.stream_id for b in batches if b.stream_id in heads])
        result = BulkResult({}, present, [])
        todo: list[tuple[StreamBatch, list[NewEvent], bool]] = []
        for batch in batches:
            fresh = [e for e in batch.events if (batch.stream_id, e.event_id) not in present]
            if not fresh:
                continue
            opens = batch.opens and fresh[0] is batch.events[0]
            head = heads.get(batch.stream_id)
            if opens and head is not None:
                raise ConcurrencyConflict(0, head[0])
            if not opens and head is None:
                raise StreamNotFound(batch.stream_id)
            if opens:
                result.opened.append(batch.stream_id)
            todo.append((batch, fresh, opens))
        if not todo:
            return result
        if before_insert is not None:
            before_insert(conn, result)
        context = AppendContext(raw, quiet=quiet)
        recorded_at = store.clock.now()
        recorded_db = raw.time(recorded_at)
        next_leaf = raw.one(NEXT_INDEX)[0] if store.log is not None else None
        first_leaf = next_leaf
        rows: list[tuple] = []  # in INSERT_MANY's column order
        canonicals: list[bytes] = []
        # The store's canonical_event and chain_hash, inlined: the batch's time and actor are encoded once, and a
        # stream's schema versions, hashes and texts computed without a call per field (the same bytes).
        recorded_iso = iso(recorded_at)
        encode, dumps = compact, compact_sorted
        sha256 = hashlib.sha256
        postgres = raw.postgres
        schemas: dict[str, int] = {}
        for batch, fresh, _ in todo:
            stream_id = batch.stream_id
            version, prev_hash = heads.get(stream_id, (0, GENESIS))
            stored: list[StoredEvent] = []
            for new in fresh:
                version += 1
                type_ = new.type
                data_text = dumps(new.data)
                source_text = dumps(new.source) if new.source is not None else None
                schema = schemas.get(type_)
                if schema is None:
                    schema = schemas[type_] = schema_version(type_)
                occurred_iso, occurred_db = iso_and_db(new.occurred_at, postgres)
                canonical = encode([new.event_id, stream_id, version, type_, schema, occurred_iso,
                                    new.date_precision, recorded_iso, actor, data_text, source_text]).encode()
                digest = sha256(prev_hash.encode("ascii") + canonical).hexdigest()
                rows.append((new.event_id, stream_id, version, type_, schema, occurred_db, new.date_precision,
                             recorded_db, actor, data_text, source_text, None, None, prev_hash, digest, next_leaf))
                stored.append(stored_event((0, new.event_id, stream_id, version, type_, schema, new.occurred_at,
                                            new.date_precision, recorded_at, actor, data_text, source_text,
                                            prev_hash, digest, next_leaf)))
                if next_leaf is not None:
                    canonicals.append(canonical)
                    next_leaf += 1
                prev_hash = digest
            result.stored[stream_id] = stored
        raw.insert_rows(INSERT_MANY, rows)
        if store.log is not None:
            frontier = store.log.extend_many(raw, first_leaf, canonicals)
            context.after_commit.append(lambda: store.log.remember(frontier))
        if store.projection is not None:
            for stream_id, stored in result.stored.items():
                folded = store.projection(conn, stream_id, stored, context)
                for reaction in store.reactions:
                    reaction(conn, stream_id, stored, folded, context)
    for callback in context.after_commit:
        callback()
    return result
