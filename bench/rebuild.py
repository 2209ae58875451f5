"""Projection rebuild from the log: `events.case_projections.rebuild(engine)` on a loaded SQLite file.

The database is loaded once (untimed for the target) with the store's multi-event append, one append of
`per_case` events per case, a realistic mix of event types (bench/workload.py); then rebuild is timed on
it `repeats` times (it deletes and re-inserts every projection row each time)."""
from __future__ import annotations

import random
import time
import uuid

from .workload import case_events, start_time, validate


def load(url: str, cases: int, per_case: int, seed: int = 7) -> tuple[object, float]:
    from events.case_projections import CaseProjections
    from events.clock import SystemClock
    from events.engine import make_engine
    from events.migrations import upgrade
    from events.store import EventStore

    engine = make_engine(url)
    upgrade(engine)
    store = EventStore(engine, SystemClock(), hooks=[CaseProjections()])
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


def rebuild_once(engine, expected: int) -> float:
    from events.case_projections import rebuild

    started = time.perf_counter()
    count = rebuild(engine)
    elapsed = time.perf_counter() - started
    assert count == expected, (count, expected)
    return count / elapsed
