"""One store contract, run against SQLite and PostgreSQL alike."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from events.case_projections import CaseProjections
from events.store import ConcurrencyConflict, DuplicateMismatch, EventStore, NewEvent, StreamNotFound
from events.tables import case_projections, events

T0 = datetime(2023, 11, 1, tzinfo=timezone.utc)


def opened(**extra) -> NewEvent:
    return NewEvent("CaseOpened", T0, {"person": "v1.sealed", "country": "FR", "origin_country": "UZ",
                                       "tags": [], "teams": ["t"]}, **extra)


def note(text_: str = "n", **extra) -> NewEvent:
    return NewEvent("NoteAdded", T0, {"text": text_}, **extra)


@pytest.fixture
def store(engine, clock):
    return EventStore(engine, clock, projection=CaseProjections())


def count(engine, stream_id: str | None = None) -> int:
    with engine.connect() as conn:
        query = select(events.c.position)
        if stream_id:
            query = query.where(events.c.stream_id == stream_id)
        return len(conn.execute(query).all())


def test_versions_are_gap_free_and_positions_increase(store):
    sid = str(uuid.uuid4())
    store.append(sid, [opened()], actor="a", new_stream=True)
    results = store.append(sid, [note("1"), note("2")], actor="a")
    results += store.append(sid, [note("3")], actor="a", expected_version=3)
    stream = store.read_stream(sid)
    assert [e.version for e in stream] == [1, 2, 3, 4]
    positions = [e.position for e in stream]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert [r.version for r in results] == [2, 3, 4]


def test_wrong_expected_version_is_a_conflict_and_appends_nothing(store, engine):
    sid = str(uuid.uuid4())
    store.append(sid, [opened()], actor="a", new_stream=True)
    store.append(sid, [note()], actor="a", expected_version=1)
    with pytest.raises(ConcurrencyConflict) as info:
        store.append(sid, [note()], actor="a", expected_version=1)
    assert info.value.actual == 2
    assert count(engine, sid) == 2


def test_two_writers_with_the_same_expected_version_one_wins(store, engine):
    sid = str(uuid.uuid4())
    store.append(sid, [opened()], actor="a", new_stream=True)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def write(label: str) -> None:
        barrier.wait()
        try:
            store.append(sid, [note(label)], actor=label, expected_version=1)
            outcomes.append("won")
        except ConcurrencyConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(name,)) for name in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert count(engine, sid) == 2


def test_unknown_stream_and_reopened_stream_are_refused(store):
    with pytest.raises(StreamNotFound):
        store.append(str(uuid.uuid4()), [note()], actor="a")
    sid = str(uuid.uuid4())
    store.append(sid, [opened()], actor="a", new_stream=True)
    with pytest.raises(ConcurrencyConflict):
        store.append(sid, [opened()], actor="a", new_stream=True)


def test_idempotency_key_returns_first_result_and_appends_nothing(store, engine):
    sid = str(uuid.uuid4())
    store.append(sid, [opened()], actor="a", new_stream=True)
    first = store.append(sid, [note("once")], actor="a", idempotency_key="k-1")[0]
    again = store.append(sid, [note("once")], actor="a", idempotency_key="k-1")[0]
    assert (again.event_id, again.version, again.position) == (first.event_id, first.version, first.position)
    assert first.created and not again.created
    assert count(engine, sid) == 2
    with pytest.raises(DuplicateMismatch):
        other = str(uuid.uuid4())
        store.append(other, [opened()], actor="a", new_stream=True)
        store.append(other, [note()], actor="a", idempotency_key="k-1")


def test_event_id_makes_a_retry_idempotent(store, engine):
    sid = str(uuid.uuid4())
    store.append(sid, [opened()], actor="a", new_stream=True)
    event_id = str(uuid.uuid4())
    first = store.append(sid, [note(event_id=event_id)], actor="a")[0]
    again = store.append(sid, [note(event_id=event_id)], actor="a")[0]
    assert again.position == first.position and not again.created
    assert count(engine, sid) == 2
    with pytest.raises(DuplicateMismatch):
        store.append(sid, [NewEvent("Detained", T0, {}, event_id=event_id)], actor="a")


def test_new_stream_idempotency_key_returns_the_first_stream(store, engine):
    first = store.append(str(uuid.uuid4()), [opened()], actor="a", new_stream=True, idempotency_key="open-1")[0]
    again = store.append(str(uuid.uuid4()), [opened()], actor="a", new_stream=True, idempotency_key="open-1")[0]
    assert again.stream_id == first.stream_id
    assert count(engine) == 1


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"])
def test_events_table_refuses_update_and_delete(store, engine, statement):
    sid = str(uuid.uuid4())
    store.append(sid, [opened(), note()], actor="a", new_stream=True)
    with pytest.raises(DBAPIError) as info:
        with engine.begin() as conn:
            conn.execute(text(statement))
    assert "append-only" in str(info.value)
    assert count(engine, sid) == 2
    with engine.connect() as conn:
        assert set(conn.execute(select(events.c.actor)).scalars()) == {"a"}


def _drop_triggers(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER events_no_update ON events"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))


def test_verify_passes_then_names_the_edited_version(store, engine):
    sid = str(uuid.uuid4())
    store.append(sid, [opened(), note("a"), note("b"), note("c")], actor="a", new_stream=True)
    assert store.verify(sid).as_dict() == {"ok": True, "events": 4, "head": store.read_stream(sid)[-1].hash}
    _drop_triggers(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE events SET data = :d WHERE stream_id = :s AND version = 3"),
                     {"d": '{"text":"forged"}', "s": sid})
    result = store.verify(sid)
    assert not result.ok and result.bad_version == 3 and "hash" in result.reason


def test_verify_finds_a_deleted_event(store, engine):
    sid = str(uuid.uuid4())
    store.append(sid, [opened(), note("a"), note("b")], actor="a", new_stream=True)
    _drop_triggers(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE stream_id = :s AND version = 2"), {"s": sid})
    result = store.verify(sid)
    assert not result.ok and result.bad_version == 2


def test_verify_finds_a_recomputed_hash_that_breaks_the_link(store, engine):
    """An attacker who rewrites an event and its own hash still breaks the next event's link."""
    from events.hashchain import chain_hash

    sid = str(uuid.uuid4())
    store.append(sid, [opened(), note("a"), note("b")], actor="a", new_stream=True)
    victim = store.read_stream(sid)[1]
    forged = victim.__class__(**{**victim.__dict__, "data_text": '{"text":"forged"}'})
    _drop_triggers(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE events SET data = :d, hash = :h WHERE event_id = :e"),
                     {"d": forged.data_text, "h": chain_hash(forged.prev_hash, forged.canonical()),
                      "e": victim.event_id})
    result = store.verify(sid)
    assert not result.ok and result.bad_version == 3 and "link" in result.reason


def test_a_failing_hook_leaves_nothing_half_written(engine, clock):
    def explode(conn, stream_id, appended, folded, context):
        raise RuntimeError("outbox unavailable")

    store = EventStore(engine, clock, projection=CaseProjections(), reactions=[explode])
    with pytest.raises(RuntimeError):
        store.append(str(uuid.uuid4()), [opened()], actor="a", new_stream=True)
    assert count(engine) == 0
    with engine.connect() as conn:
        assert conn.execute(select(case_projections.c.case_id)).first() is None


def test_projection_is_updated_in_the_append_transaction(store, engine):
    sid = str(uuid.uuid4())
    store.append(sid, [opened()], actor="a", new_stream=True)
    store.append(sid, [NewEvent("Detained", T0, {"place": "Nice"})], actor="a")
    with engine.connect() as conn:
        row = CaseProjections.get(conn, sid)
    assert row.version == 2 and row.state.detained and row.state.detained_place == "Nice"


# ---- the append connection kept open between appends, and the projection rows each process remembers ----
def _place(engine, sid: str):
    with engine.connect() as conn:
        return CaseProjections.get(conn, sid).state


def test_two_processes_appending_to_one_case_keep_its_projection_exact(db_url, clock):
    from events.engine import make_engine
    from events.projection import fold

    engines = [make_engine(db_url), make_engine(db_url)]  # two engines: two pools, two projection memories
    try:
        stores = [EventStore(e, clock, projection=CaseProjections()) for e in engines]
        sid = str(uuid.uuid4())
        stores[0].append(sid, [opened()], actor="a", new_stream=True)
        steps = [NewEvent("Detained", T0, {"place": "Nice"}), note("x"), NewEvent("Released", T0, {}),
                 NewEvent("Detained", T0, {"place": "Lyon"}), note("y"), NewEvent("Charged", T0, {})]
        for i, event in enumerate(steps):
            stores[i % 2].append(sid, [event], actor="a")
            expected = fold(stores[0].read_stream(sid))
            assert _place(engines[0], sid) == expected, f"after step {i}"
        final = _place(engines[0], sid)
        assert final.detained_place == "Lyon" and final.charged
    finally:
        for e in engines:
            e.dispose()


def test_a_rolled_back_append_leaves_nothing_in_the_remembered_projection(db_url, clock):
    from events.engine import make_engine

    fail = {"now": False}

    def explode_when_asked(conn, stream_id, appended, folded, context):
        if fail["now"]:
            raise RuntimeError("outbox unavailable")

    engine_a, engine_b = make_engine(db_url), make_engine(db_url)
    try:
        store_a = EventStore(engine_a, clock, projection=CaseProjections(), reactions=[explode_when_asked])
        store_b = EventStore(engine_b, clock, projection=CaseProjections())
        sid = str(uuid.uuid4())
        store_a.append(sid, [opened()], actor="a", new_stream=True)
        fail["now"] = True
        with pytest.raises(RuntimeError):
            store_a.append(sid, [NewEvent("Detained", T0, {"place": "Nice"})], actor="a")  # version 2, undone
        fail["now"] = False
        store_b.append(sid, [NewEvent("Detained", T0, {"place": "Lyon"})], actor="b")  # the real version 2
        store_a.append(sid, [NewEvent("Charged", T0, {})], actor="a")  # A folds onto version 2 as stored
        state = _place(engine_a, sid)
        assert state.detained_place == "Lyon" and state.charged
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_an_append_after_another_store_s_is_chained_on_the_stream_s_real_head(db_url, clock):
    """Each store remembers the heads it committed; a stream another store (process) moved on since is read."""
    from events.engine import make_engine

    engine_a, engine_b = make_engine(db_url), make_engine(db_url)
    try:
        store_a = EventStore(engine_a, clock, projection=CaseProjections())
        store_b = EventStore(engine_b, clock, projection=CaseProjections())
        sid = str(uuid.uuid4())
        store_a.append(sid, [opened()], actor="a", new_stream=True)
        store_a.append(sid, [note("a1")], actor="a")
        store_b.append(sid, [note("b1"), note("b2")], actor="b")
        assert [r.version for r in store_a.append(sid, [note("a2")], actor="a")] == [5]
        assert [e.version for e in store_a.read_stream(sid)] == [1, 2, 3, 4, 5]
        assert store_a.verify(sid).ok
        with pytest.raises(ConcurrencyConflict) as info:  # B remembers version 4: the stream is at 5
            store_b.append(sid, [note()], actor="b", expected_version=4)
        assert info.value.actual == 5
    finally:
        engine_a.dispose()
        engine_b.dispose()


@pytest.mark.parametrize("remembered", [(9, "f" * 64), (2, "0" * 64)], ids=["version", "hash"])
def test_a_remembered_head_the_database_does_not_hold_is_not_chained_onto(store, engine, remembered):
    """As after a backup was restored under a running process: the append reads the head the database has.

    PostgreSQL's store checks a remembered head inside its insert. SQLite's uses one only while nothing but its own
    batches has written since, so a wrong one cannot arise there: the restore itself is tested below."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite trusts no remembered head once anything else has written: see the restore test")
    sid = str(uuid.uuid4())
    store.append(sid, [opened()], actor="a", new_stream=True)
    store.append(sid, [note()], actor="a")
    store._heads.put(sid, remembered)
    assert [r.version for r in store.append(sid, [note("after")], actor="a")] == [3]
    assert [e.version for e in store.read_stream(sid)] == [1, 2, 3]
    assert store.verify(sid).ok and count(engine, sid) == 3


def test_sqlite_a_backup_restored_under_a_running_store_is_chained_onto_as_restored(tmp_path, clock):
    """The store remembers the head it committed (version 2); a backup taken at version 1 is then restored into
    the live file by another connection: the next append is version 2 again, chained onto version 1."""
    import sqlite3

    from events.engine import make_engine
    from events.migrations import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        upgrade(engine)
        store = EventStore(engine, clock, projection=CaseProjections())
        sid = str(uuid.uuid4())
        store.append(sid, [opened()], actor="a", new_stream=True)
        with sqlite3.connect(tmp_path / "live.db") as live, sqlite3.connect(tmp_path / "backup.db") as backup:
            live.backup(backup)
            store.append(sid, [note("lost with the restore")], actor="a")
            backup.backup(live)
        assert [r.version for r in store.append(sid, [note("after")], actor="a")] == [2]
        assert [e.data["text"] for e in store.read_stream(sid)[1:]] == ["after"]
        assert store.verify(sid).ok and count(engine, sid) == 2
    finally:
        engine.dispose()


def test_two_stores_on_one_engine_chain_onto_each_other_s_appends(engine, clock):
    """Both append on the engine's one append connection: neither chains onto a head the other moved on."""
    store_a = EventStore(engine, clock, projection=CaseProjections())
    store_b = EventStore(engine, clock, projection=CaseProjections())
    sid = str(uuid.uuid4())
    store_a.append(sid, [opened()], actor="a", new_stream=True)
    store_a.append(sid, [note("a")], actor="a")
    assert [r.version for r in store_b.append(sid, [note("b")], actor="b")] == [3]
    assert [r.version for r in store_a.append(sid, [note("a again")], actor="a")] == [4]
    assert store_a.verify(sid).ok and count(engine, sid) == 4


def test_another_store_writing_just_after_the_append_lock_is_released_is_seen(engine, clock, monkeypatch):
    """Store B appends in the moment between A's commit (the lock released) and A noting what it saw: A's next
    append must still chain onto B's event, not fail with a conflict on a head B moved on."""
    from contextlib import contextmanager

    import events.store as store_module

    store_a = EventStore(engine, clock, projection=CaseProjections())
    store_b = EventStore(engine, clock, projection=CaseProjections())
    sid = str(uuid.uuid4())
    store_a.append(sid, [opened()], actor="a", new_stream=True)
    inner, cut_in = store_module.appending_raw, [True]

    @contextmanager
    def b_cuts_in(engine, *args, **kwargs):
        with inner(engine, *args, **kwargs) as pair:
            yield pair
        if cut_in:  # A's transaction has committed and its lock is free: B gets in first
            cut_in.clear()
            store_b.append(sid, [note("b")], actor="b")
    monkeypatch.setattr(store_module, "appending_raw", b_cuts_in)
    store_a.append(sid, [note("a")], actor="a")
    assert [r.version for r in store_a.append(sid, [note("a again")], actor="a")] == [4]
    assert store_a.verify(sid).ok and count(engine, sid) == 4


def test_a_hook_writing_through_sqlalchemy_joins_the_append_and_its_rollback(engine, clock):
    from events.tables import case_keys

    def write_then(outcome):
        def hook(conn, stream_id, appended, folded, context):
            if appended[0].version == 1:
                conn.execute(case_keys.insert().values(case_id=stream_id, wrapped_key=b"k", created_at=T0))
            if outcome == "fail":
                raise RuntimeError("after a SQLAlchemy write")
        return hook

    failing = EventStore(engine, clock, projection=CaseProjections(), reactions=[write_then("fail")])
    with pytest.raises(RuntimeError):
        failing.append(str(uuid.uuid4()), [opened()], actor="a", new_stream=True)
    with engine.connect() as conn:
        assert conn.execute(select(case_keys.c.case_id)).first() is None
    assert count(engine) == 0
    working = EventStore(engine, clock, projection=CaseProjections(), reactions=[write_then("ok")])
    sid = str(uuid.uuid4())
    working.append(sid, [opened()], actor="a", new_stream=True)
    working.append(sid, [note()], actor="a")  # a second append on the same connection after a SQLAlchemy commit
    with engine.connect() as conn:
        assert conn.execute(select(case_keys.c.case_id)).scalars().all() == [sid]
    assert count(engine, sid) == 2


@pytest.mark.postgres
def test_an_append_survives_its_connection_being_killed(postgres_url, clock):
    from events.engine import make_engine
    from events.transactions import append_backend_pid

    engine = make_engine(postgres_url)
    try:
        store = EventStore(engine, clock, projection=CaseProjections())
        sid = str(uuid.uuid4())
        store.append(sid, [opened()], actor="a", new_stream=True)
        backend = append_backend_pid(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend}).scalar()
        store.append(sid, [note("after the restart")], actor="a")  # the lost connection is replaced, once
        assert [e.version for e in store.read_stream(sid)] == [1, 2]
        assert append_backend_pid(engine) not in (None, backend)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_disposing_the_engine_closes_the_append_connection(postgres_url, clock):
    from events.engine import make_engine

    engine = make_engine(postgres_url)
    store = EventStore(engine, clock, projection=CaseProjections())
    store.append(str(uuid.uuid4()), [opened()], actor="a", new_stream=True)
    engine.dispose()
    watcher = make_engine(postgres_url)
    try:
        with watcher.connect() as conn:
            others = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND pid <> pg_backend_pid()")).scalar()
        assert others == 0
    finally:
        watcher.dispose()
