"""Whole-store soundness: every chain verifies, the Merkle log checks out, projections equal a rebuild."""
from __future__ import annotations

from sqlalchemy import Engine, text

from events.case_projections import rebuild
from events.log_tree import check_tree
from events.store import EventStore

COLUMNS = "case_id, version, status, country, origin_country, tags, teams, state"


def assert_sound(engine: Engine, store: EventStore) -> None:
    for sid in store.stream_ids():
        assert store.verify(sid).ok, sid
    with engine.connect() as conn:
        assert check_tree(conn).problem is None
        before = conn.execute(text(f"SELECT {COLUMNS} FROM case_projections ORDER BY case_id")).all()
    rebuild(engine)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT {COLUMNS} FROM case_projections ORDER BY case_id")).all() == before
