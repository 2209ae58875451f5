"""The schema comes only from migrations, and the table definitions the code uses match them."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import evidence.tables  # noqa: F401
import notifications.tables  # noqa: F401
from events.tables import metadata


def test_models_and_migrations_do_not_drift(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrations_are_at_head(engine):
    from alembic.script import ScriptDirectory

    from events.migrations import alembic_config
    from events.schema_head import head_revision

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current == head
    assert head_revision() == head  # the quick reading a command's schema check relies on agrees with Alembic


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    from ..conftest import scratch_database

    with scratch_database(request.getfixturevalue("pg"), template=None) as url:
        yield url


def test_upgrading_a_database_with_cases_leaves_their_list_places_lapsed_then_placed(empty_url):
    """0006 on a database already holding cases: each starts lapsed, the list still shows it in the right
    place (assessed as it reads), and the tick's placing stores its place."""
    import json
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import text

    from events.case_list import ListFilter, list_page, place_lapsed
    from events.engine import make_engine
    from events.migrations import upgrade
    from events.projection import CaseState

    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0005")
        now = datetime(2026, 3, 1, tzinfo=timezone.utc)
        calm = CaseState(country="FR", teams=("lyon",))
        urgent = CaseState(country="FR", teams=("lyon",), whereabouts_unknown=True)
        with engine.begin() as conn:
            for case_id, state in (("a-calm", calm), ("b-urgent", urgent)):
                conn.execute(text(
                    "INSERT INTO case_projections (case_id, version, status, country, origin_country, tags, teams, "
                    "state, opened_at, updated_at) VALUES (:c, 1, 'monitoring', 'FR', NULL, '[]', '[\"lyon\"]', :s, "
                    ":t, :t)"), {"c": case_id, "s": json.dumps({"state": state.to_dict(), "last": None}), "t": now})
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT list_valid_until FROM case_projections")).scalars().all() == ["", ""]
            page, _ = list_page(conn, ListFilter(team="lyon"), now, timedelta(days=2), 0, 10)
        assert [c.case_id for c in page] == ["b-urgent", "a-calm"]
        assert place_lapsed(engine, now, timedelta(days=2)) == 2
        with engine.connect() as conn:
            assert conn.execute(text("SELECT list_sort FROM case_projections ORDER BY case_id")).scalars().all() \
                == [-3, -9]  # monitoring and critical, both current
    finally:
        engine.dispose()


def test_0010_keeps_every_event_and_the_append_only_guard_and_scopes_event_ids_to_their_stream(empty_url):
    """0010 copies the events table on SQLite: the rows, their positions and the triggers that refuse UPDATE and
    DELETE must all come through; afterwards one event_id may appear in two streams, but not twice in one."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from events.engine import make_engine
    from events.migrations import upgrade

    row = ("INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, date_precision, "
           "recorded_at, actor, data, prev_hash, hash) VALUES (:e, :s, :v, 'NoteAdded', 1, :t, 'exact', :t, 'a', "
           "'{}', 'p', 'h')")
    now = "2026-03-01 00:00:00.000000"
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0009")
        with engine.begin() as conn:
            for version in (1, 2, 3):
                conn.execute(text(row), {"e": f"id-{version}", "s": "case-a", "v": version, "t": now})
            before = conn.execute(text("SELECT position, event_id FROM events ORDER BY position")).all()
        upgrade(engine)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT position, event_id FROM events ORDER BY position")).all() == before
            conn.execute(text(row), {"e": "id-1", "s": "case-b", "v": 1, "t": now})
        with pytest.raises(DBAPIError):
            with engine.begin() as conn:
                conn.execute(text(row), {"e": "id-2", "s": "case-a", "v": 4, "t": now})
        for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 4
    finally:
        engine.dispose()
