"""Store append, one event per transaction: Vigil's full append vs the `eventsourcing` library's recorders.

Workload (same for every system): `streams` streams x `per_stream` events, appended round-robin
(version 1 of every stream, then version 2, ...), each event in its own transaction, on a fresh
database per run.

* ours: `EventStore.append` with the `CaseProjections` hook (and, in a second variant, also the `Outbox` and
  `ReminderPlanner` hooks, as service/container.py wires the store): reads the stream head, inserts the event with
  its SHA-256 hash-chain link, and folds + upserts the case projection row, all in one transaction.
  (PostgreSQL: plus the advisory lock that orders appends.) The first event of each stream is a
  `CaseOpened` (new_stream=True), the rest are `NoteAdded`.
* peer: `eventsourcing` 9.5.x `SQLiteAggregateRecorder.insert_events([stored_event])` /
  `PostgresAggregateRecorder.insert_events([stored_event])` -- the barest per-event append path the library
  offers (no mapper, no aggregate, no notification id). The `StoredEvent` (id, version, topic, JSON state of a
  similar size) is built inside the timed loop, as Vigil's `NewEvent` is.
* peer, application recorder (information only): `SQLiteApplicationRecorder` / `PostgresApplicationRecorder`
  `insert_events`, which also assigns the global notification id (the nearest thing to Vigil's position).
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Callable

from .common import fresh_dir

OPEN_DATA = {"person": "v1.bench-sealed-person-token", "country": "KZ", "origin_country": "UZ", "tags": [],
             "teams": ["t"]}
NOTE_DATA = {"text": "Lawyer visited; detention conditions noted."}


def _peer_state(version: int) -> bytes:
    data = OPEN_DATA if version == 1 else NOTE_DATA
    return json.dumps({"timestamp": datetime.now(timezone.utc).isoformat(), "data": data},
                      separators=(",", ":")).encode()


def _topic(version: int) -> str:
    return "bench.events:CaseOpened" if version == 1 else "bench.events:NoteAdded"


# ---------------------------------------------------------------- ours
def outbox_available() -> bool:
    try:
        from notifications.outbox import Outbox  # noqa: F401
        return True
    except ImportError:
        return False


def make_steps(clock, outbox: bool) -> dict:
    """The append's steps: the case projection, plus the alert outbox and the reminder planner exactly as
    service/container.py wires them."""
    from events.case_projections import CaseProjections

    if not outbox:
        return {"projection": CaseProjections()}
    from notifications.outbox import Outbox
    from notifications.reminders import ReminderPlanner
    from service.settings import Settings

    return {"projection": CaseProjections(),
            "reactions": [Outbox(clock), ReminderPlanner(clock, Settings.model_fields["contact_overdue_after"].default)]}


def vigil_run(url: str, streams: int, per_stream: int, check: Callable | None = None, outbox: bool = False,
              log: bool = True) -> float:
    """Events per second for Vigil's full append on a fresh database at `url` (schema created untimed); `log`
    False appends without the Merkle log, to measure what the tree costs (bench/log_tree.py)."""
    from events.clock import SystemClock
    from events.engine import make_engine
    from events.migrations import upgrade
    from events.store import EventStore, NewEvent

    engine = make_engine(url)
    try:
        upgrade(engine)
        if check is not None:
            check(engine)
        clock = SystemClock()
        store = EventStore(engine, clock, **make_steps(clock, outbox), log=None if log else False)
        ids = [str(uuid.uuid4()) for _ in range(streams)]
        start = time.perf_counter()
        for version in range(1, per_stream + 1):
            for stream_id in ids:
                now = datetime.now(timezone.utc)
                if version == 1:
                    store.append(stream_id, [NewEvent("CaseOpened", now, OPEN_DATA)], actor="bench",
                                 new_stream=True)
                else:
                    store.append(stream_id, [NewEvent("NoteAdded", now, NOTE_DATA)], actor="bench")
        elapsed = time.perf_counter() - start
        from sqlalchemy import text
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
            projected = conn.execute(text("SELECT count(*) FROM case_projections")).scalar_one()
            leaves = conn.execute(text("SELECT count(*) FROM log_nodes WHERE level = 0")).scalar_one()
        assert stored == streams * per_stream and projected == streams, (stored, projected)
        assert leaves == (stored if log else 0), leaves  # the tree was kept (or not) as asked
        return streams * per_stream / elapsed
    finally:
        engine.dispose()


def _peer_loop(insert, streams: int, per_stream: int) -> float:
    from eventsourcing.persistence import StoredEvent

    ids = [uuid.uuid4() for _ in range(streams)]
    start = time.perf_counter()
    for version in range(1, per_stream + 1):
        for stream_id in ids:
            insert([StoredEvent(stream_id, version, _topic(version), _peer_state(version))])
    return streams * per_stream / (time.perf_counter() - start)


# ---------------------------------------------------------------- the floor of our own statements
FLOOR_HEAD = "SELECT version, hash FROM events WHERE stream_id = {p} ORDER BY version DESC LIMIT 1"
FLOOR_INSERT = (
    "INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, date_precision, recorded_at, "
    "actor, data, source, idempotency_key, prev_hash, hash) VALUES ({p}, {p}, {p}, {p}, 1, {p}, 'exact', {p}, 'bench', "
    "{p}, NULL, NULL, {p}, {p}) RETURNING position")
FLOOR_OPEN = (
    "INSERT INTO case_projections (case_id, version, status, country, origin_country, tags, teams, state, opened_at, "
    "updated_at) VALUES ({p}, 1, 'monitoring', 'KZ', 'UZ', '[]', '[\"t\"]', {p}, {p}, {p})")
FLOOR_TOUCH = "UPDATE case_projections SET version = {p}, updated_at = {p} WHERE case_id = {p}"


def _floor_loop(execute, begin, commit, streams: int, per_stream: int, now) -> float:
    """A cache-hit append's statements (what EventStore.append sends for a note), every value computed before
    the clock starts: the most any implementation of this one-transaction design can reach on this driver."""
    ids = [str(uuid.uuid4()) for _ in range(streams)]
    state = json.dumps({"state": {"teams": ["t"], "country": "KZ"}, "last": None}) + " " * 700  # a real row's size
    rows = [(str(uuid.uuid4()), "0" * 64, "1" * 64) for _ in range(streams * per_stream)]
    data = [json.dumps(OPEN_DATA), json.dumps(NOTE_DATA)]
    at = now()
    start = time.perf_counter()
    i = 0
    for version in range(1, per_stream + 1):
        for stream_id in ids:
            event_id, prev, digest = rows[i]
            i += 1
            begin()
            execute(FLOOR_HEAD, (stream_id,), True)
            execute(FLOOR_INSERT, (event_id, stream_id, version, "CaseOpened" if version == 1 else "NoteAdded", at, at,
                                   data[version > 1], prev, digest), True)
            if version == 1:
                execute(FLOOR_OPEN, (stream_id, state, at, at), False)
            else:
                execute(FLOOR_TOUCH, (version, at, stream_id), False)
            commit()
    return streams * per_stream / (time.perf_counter() - start)


def sqlite_floor(streams: int, per_stream: int) -> float:
    """Vigil's statements on the bare sqlite3 driver (same schema, WAL, synchronous=FULL)."""
    import sqlite3

    from events.engine import make_engine
    from events.migrations import upgrade

    with fresh_dir("sqlite-floor") as d:
        engine = make_engine(f"sqlite:///{d}/bench.db")
        upgrade(engine)
        engine.dispose()
        conn = sqlite3.connect(f"{d}/bench.db", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")

            def execute(sql, params, fetch):
                cursor = conn.execute(sql.format(p="?"), params)
                if fetch:
                    cursor.fetchone()

            return _floor_loop(execute, lambda: conn.execute("BEGIN IMMEDIATE"), lambda: conn.execute("COMMIT"),
                               streams, per_stream, lambda: "2024-01-01 00:00:00.000000")
        finally:
            conn.close()


# ---------------------------------------------------------------- SQLite
SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": 2}  # 2 = FULL


def sqlite_vigil_pragmas(engine) -> dict:
    with engine.connect() as conn:
        return {"journal_mode": conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
                "synchronous": conn.exec_driver_sql("PRAGMA synchronous").scalar()}


def _es_sqlite_datastore(path: str):
    """eventsourcing's SQLite datastore, with synchronous=FULL set explicitly on every connection it opens.

    The library itself switches the file to WAL and leaves `synchronous` at SQLite's compiled default
    (FULL with this build); we set it anyway so both sides are identical whatever the build."""
    from eventsourcing.sqlite import SQLiteDatastore

    datastore = SQLiteDatastore(path)
    original = datastore.pool._create_connection

    def create_connection():
        conn = original()
        conn._sqlite_conn.execute("PRAGMA synchronous=FULL")
        return conn

    datastore.pool._create_connection = create_connection
    return datastore


def es_sqlite_pragmas(datastore) -> dict:
    with datastore.transaction(commit=False) as c:
        c.execute("PRAGMA journal_mode")
        mode = c.fetchone()[0]
        c.execute("PRAGMA synchronous")
        sync = c.fetchone()[0]
    return {"journal_mode": mode, "synchronous": sync}


def sqlite_vigil(streams: int, per_stream: int, seen: dict, outbox: bool = False) -> float:
    def check(engine):
        seen["ours"] = pragmas = sqlite_vigil_pragmas(engine)
        assert pragmas == SQLITE_PRAGMAS, pragmas

    with fresh_dir("sqlite-vigil") as d:
        return vigil_run(f"sqlite:///{d}/bench.db", streams, per_stream, check, outbox)


def sqlite_peer(streams: int, per_stream: int, seen: dict, application: bool = False) -> float:
    from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder

    with fresh_dir("sqlite-peer") as d:
        datastore = _es_sqlite_datastore(f"{d}/bench.db")
        try:
            recorder = (SQLiteApplicationRecorder if application else SQLiteAggregateRecorder)(datastore)
            recorder.create_table()
            seen["peer"] = pragmas = es_sqlite_pragmas(datastore)
            assert pragmas == SQLITE_PRAGMAS, pragmas
            rate = _peer_loop(recorder.insert_events, streams, per_stream)
            with datastore.transaction(commit=False) as c:
                c.execute("SELECT count(*) FROM stored_events")
                assert c.fetchone()[0] == streams * per_stream
            return rate
        finally:
            datastore.close()


# ---------------------------------------------------------------- PostgreSQL
def pg_vigil(server, streams: int, per_stream: int, name: str, outbox: bool = False) -> float:
    server.create_database(name)
    try:
        return vigil_run(server.sqlalchemy_url(name), streams, per_stream,
                         check=lambda engine: server.checkpoint(), outbox=outbox)
    finally:
        server.drop_database(name)


def pg_floor(server, streams: int, per_stream: int, name: str) -> float:
    """Vigil's statements (with the advisory lock) on the bare psycopg driver, same server and schema."""
    import psycopg

    from events.engine import make_engine
    from events.migrations import upgrade
    from events.store import APPEND_LOCK_KEY

    server.create_database(name)
    try:
        engine = make_engine(server.sqlalchemy_url(name))
        upgrade(engine)
        engine.dispose()
        server.checkpoint()
        with psycopg.connect(server.dsn(name)) as conn:
            def execute(sql, params, fetch):
                cursor = conn.execute(sql.format(p="%s"), params)
                if fetch:
                    cursor.fetchone()

            def begin():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY,))

            return _floor_loop(execute, begin, conn.commit, streams, per_stream, lambda: datetime.now(timezone.utc))
    finally:
        server.drop_database(name)


def pg_peer(server, streams: int, per_stream: int, name: str, application: bool = False) -> float:
    from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresDatastore

    server.create_database(name)
    try:
        datastore = PostgresDatastore(name, "127.0.0.1", server.port, "postgres", "", pool_size=1)
        try:
            recorder = (PostgresApplicationRecorder if application else PostgresAggregateRecorder)(datastore)
            recorder.create_table()
            server.checkpoint()
            rate = _peer_loop(recorder.insert_events, streams, per_stream)
            with datastore.transaction(commit=False) as c:
                c.execute("SELECT count(*) AS n FROM stored_events")
                assert c.fetchone()["n"] == streams * per_stream
            return rate
        finally:
            datastore.close()
    finally:
        server.drop_database(name)
