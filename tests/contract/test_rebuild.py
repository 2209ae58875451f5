"""A rebuild from the log gives exactly the projection rows that appending one event at a time built."""
from __future__ import annotations

import random
import uuid

from sqlalchemy import text

from bench.workload import case_events, start_time
from events.case_projections import CaseProjections, rebuild
from events.store import EventStore

COLUMNS = "case_id, version, status, country, origin_country, tags, teams, state"


def test_rebuild_matches_the_projections_built_append_by_append(engine, clock):
    store = EventStore(engine, clock, projection=CaseProjections())
    rng = random.Random(11)
    appended = 0
    for _ in range(12):
        stream_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        # Notes, sources, late reports, retractions, postponements: the workload mix, one event per append.
        for i, event in enumerate(case_events(rng, 60, start_time(rng))):
            store.append(stream_id, [event], actor="t", new_stream=i == 0)
            appended += 1
    with engine.connect() as conn:
        before = conn.execute(text(f"SELECT {COLUMNS} FROM case_projections ORDER BY case_id")).all()
    assert rebuild(engine) == appended
    with engine.connect() as conn:
        after = conn.execute(text(f"SELECT {COLUMNS} FROM case_projections ORDER BY case_id")).all()
    assert len(after) == 12 and after == before
