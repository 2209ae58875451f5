"""Projection rebuild from the log: `events.case_projections.rebuild(engine)` on a loaded SQLite file.

The database is loaded once (untimed for the target) with the store's multi-event append, one append of
`per_case` events per case, a realistic mix of event types (bench/workload.py); then rebuild is timed on
it `repeats` times (it deletes and re-inserts every projection row each time)."""
from __future__ import annotations

import gc
import random
import time
import uuid
from datetime import datetime, timedelta, timezone

from .workload import case_events, start_time, validate


def load(url: str, cases: int, per_case: int, seed: int = 7) -> tuple[object, float]:
    from events.case_projections import CaseProjections
    from events.clock import SystemClock
    from events.engine import make_engine
    from events.migrations import upgrade
    from events.store import EventStore

    engine = make_engine(url)
    upgrade(engine)
    store = EventStore(engine, SystemClock(), projection=CaseProjections())
    rng = random.Random(seed)
    batches = []
    for i in range(cases):
        events = case_events(rng, per_case, start_time(rng))
        if i < 20:
            validate(events)
        batches.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), events))
    started = time.perf_counter()
    for stream_id, events in batches:
        store.append(stream_id, events, actor="bench-load", new_stream=True)
    load_rate = cases * per_case / (time.perf_counter() - started)
    return engine, load_rate


def load_log(url: str, cases: int, per_case: int, seed: int = 11, chunk: int = 500) -> tuple[object, float]:
    """A large log written fast, for the read measures at quality.md's size: the same workload and the same
    rows (ids, versions, SHA-256 chain links, as `verify` checks them) as the store writes, but inserted
    `chunk` cases per transaction with executemany and no projection hook (rebuild makes the projections)."""
    from events.engine import make_engine
    from events.transactions import appending
    from events.fastsql import Raw
    from events.hashchain import GENESIS, chain_hash
    from events.migrations import upgrade
    from events.records import canonical_event
    from events.store import INSERT_EVENT, _dumps

    # No transparency log here (log_index NULL): the reads measured do not touch it.
    insert = INSERT_EVENT.format(log_index="NULL").split(" RETURNING")[0]
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(seed)
    recorded = datetime(2026, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    for first in range(0, cases, chunk):
        rows = []
        for _ in range(min(chunk, cases - first)):
            stream_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            prev = GENESIS
            for version, new in enumerate(case_events(rng, per_case, start_time(rng)), start=1):
                event_id = new.event_id or str(uuid.UUID(int=rng.getrandbits(128), version=4))
                data = _dumps(new.data)
                digest = chain_hash(prev, canonical_event(event_id, stream_id, version, new.type, 1, new.occurred_at,
                                                          new.date_precision, recorded, "bench-load", data, None))
                rows.append({"event_id": event_id, "stream_id": stream_id, "version": version, "type": new.type,
                             "schema_version": 1, "occurred_at": new.occurred_at,
                             "date_precision": new.date_precision, "recorded_at": recorded, "actor": "bench-load",
                             "data": data, "source": None, "idempotency_key": None, "request_hash": None,
                             "prev_hash": prev, "hash": digest})
                prev = digest
        with appending(engine) as conn:
            raw = Raw(conn)
            for row in rows:
                row["occurred_at"], row["recorded_at"] = raw.time(row["occurred_at"]), raw.time(row["recorded_at"])
            raw.many(insert, rows)
    return engine, cases * per_case / (time.perf_counter() - started)


def place_all(engine) -> float:
    """Seconds to place every case in the list order (what the scheduler tick does after a rebuild)."""
    from events.case_list import place_lapsed

    started = time.perf_counter()
    place_lapsed(engine, datetime.now(timezone.utc), timedelta(days=2), batches=10**9)
    return time.perf_counter() - started


def rebuild_once(engine, expected: int) -> float:
    from events.case_projections import rebuild

    started = time.perf_counter()
    count = rebuild(engine)
    elapsed = time.perf_counter() - started
    assert count == expected, (count, expected)
    return count / elapsed


def read_latencies(engine, url: str, calls: int) -> dict[str, list[float]]:
    """Milliseconds per call of the reads quality.md bounds, through CaseService as the API calls it (admin key):
    the first page of the case list (all cases, then filtered by the commonest status) and one case's history."""
    from events.personal_data import new_master_key
    from service.access import Principal
    from service.cases import CaseFilters
    from service.container import build_container
    from service.settings import Settings

    box = build_container(Settings(_env_file=None, database_url=url, master_key=new_master_key(), run_worker=False),
                          engine=engine)
    admin = Principal("bench", "bench", "admin", "bench")
    with engine.connect() as conn:
        status = conn.exec_driver_sql("SELECT status FROM case_projections GROUP BY status "
                                      "ORDER BY count(*) DESC LIMIT 1").scalar()
        case_ids = [r[0] for r in conn.exec_driver_sql(f"SELECT case_id FROM case_projections LIMIT {calls}")]

    def timed(call) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    # The benchmark process still holds the garbage of writing and rebuilding the log; one full collection and
    # one untimed call first, so a collection of the harness's garbage or a first-call cost is not timed as
    # a read (in one full run, without these, the first list call took 55 ms against a 3 ms median).
    gc.collect()
    box.cases.list(admin, CaseFilters(), 50, 0)
    reads = {
        "list": [timed(lambda: box.cases.list(admin, CaseFilters(), 50, 0)) for _ in range(calls)],
        "list_status": [timed(lambda: box.cases.list(admin, CaseFilters(status=status), 50, 0))
                        for _ in range(calls)],
        "history": [timed(lambda c=c: box.cases.events(admin, c)) for c in case_ids],
    }
    # As if 1,000 cases had changed since the last tick: the list assesses those as it reads.
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE case_projections SET list_valid_until = '' WHERE case_id IN "
                             "(SELECT case_id FROM case_projections ORDER BY case_id LIMIT 1000)")
    reads["list_lapsed"] = [timed(lambda: box.cases.list(admin, CaseFilters(), 50, 0)) for _ in range(calls)]
    return reads
