"""The Merkle log kept with every append: dense log_index in commit order, stored tree equal to a recomputation,
proofs from stored nodes, the full check naming what was changed, and the tree built for an existing database."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from events import merkle
from events.case_projections import CaseProjections
from events.engine import make_engine
from events.log_tree import Frontier, check_tree
from events.store import EventStore, NewEvent

from ..conftest import START
from .helpers.insider import drop_guards


def opened(n: int = 0) -> NewEvent:
    return NewEvent("CaseOpened", START, {"person": "v1.sealed", "country": "FR", "tags": [], "teams": ["lyon"],
                                          "summary": f"case {n}"})


def note(text_: str) -> NewEvent:
    return NewEvent("NoteAdded", START, {"text": text_})


def all_events(store: EventStore):
    return store.read_all(0, 10**6)


def leaves_of(events) -> list[bytes]:
    return [merkle.leaf_hash(e.canonical()) for e in sorted(events, key=lambda e: e.log_index)]


def assert_tree_is_recomputation(store: EventStore) -> list[bytes]:
    events = all_events(store)
    assert [e.log_index for e in events] == list(range(len(events)))  # dense, and in commit (position) order
    leaves = leaves_of(events)
    with store.engine.connect() as conn:
        assert store.log.size(conn) == len(leaves)
        assert store.log.root(conn, len(leaves)) == merkle.root_of(leaves)
        stored = {(r.level, r.idx): bytes(r.hash) for r in conn.execute(text("SELECT level, idx, hash FROM log_nodes"))}
        assert stored == {(lv, i): h for lv, i, h in _all_nodes(leaves)}
        result = check_tree(conn)
    assert result.ok, result.problem
    assert result.root == merkle.root_of(leaves)
    return leaves


def _all_nodes(leaves: list[bytes]):
    frontier = Frontier()
    for leaf in leaves:
        yield from frontier.add(leaf)


def test_frontier_finishes_exactly_the_completed_pieces_with_their_hashes():
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(37)]
    frontier = Frontier()
    for i, leaf in enumerate(leaves):
        finished = frontier.add(leaf)
        assert [(lv, idx) for lv, idx, _ in finished] == merkle.completed_pieces(i)
        for level, idx, digest in finished:
            assert digest == merkle.root_of(leaves[idx << level:(idx + 1) << level])
        assert frontier.root() == merkle.root_of(leaves[:i + 1])


def test_every_append_gets_the_next_log_index_and_the_stored_tree_is_the_recomputed_one(engine, clock):
    store = EventStore(engine, clock, projection=CaseProjections())
    results = []
    for n in range(7):
        case = str(uuid.uuid4())
        results += store.append(case, [opened(n)], actor="t", new_stream=True)
        results += store.append(case, [note(f"{n}-{k}") for k in range(n % 3 + 1)], actor="t")  # 1 to 3 at once
    assert [r.log_index for r in results] == list(range(len(results)))
    leaves = assert_tree_is_recomputation(store)
    with engine.connect() as conn:
        for size in range(1, len(leaves) + 1):
            root = merkle.root_of(leaves[:size])
            assert store.log.root(conn, size) == root
            for index in range(size):
                proof = store.log.inclusion(conn, index, size)
                assert proof == merkle.inclusion_proof(leaves, index, size)
                assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
            for old in range(0, size + 1):
                proof = store.log.consistency(conn, old, size)
                assert merkle.verify_consistency(old, size, merkle.root_of(leaves[:old]), root, proof)
        event = store.log.leaf(conn, 5)
        assert event is not None and event.log_index == 5 and merkle.leaf_hash(event.canonical()) == leaves[5]
        assert store.log.leaf(conn, len(leaves)) is None


def test_a_rolled_back_append_and_another_writer_leave_no_gap_and_no_stale_tree(engine, clock):
    """log_index has no gap where position has one (a rolled-back append burns a PostgreSQL sequence value), and
    a store whose remembered right edge is stale (the append it remembers rolled back, or another process
    appended since) reads the edge again instead of building on it."""
    failing = {"now": False}

    def explode(conn, stream_id, appended, folded, context):
        if failing["now"]:
            raise RuntimeError("boom")

    first = EventStore(engine, clock, projection=CaseProjections(), reactions=[explode])
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        second = EventStore(other_engine, clock, projection=CaseProjections())  # as another process would
        case = str(uuid.uuid4())
        first.append(case, [opened()], actor="t", new_stream=True)
        first.append(case, [note("a"), note("b")], actor="t")
        failing["now"] = True
        with pytest.raises(RuntimeError):
            first.append(case, [note("rolled back")], actor="t")
        failing["now"] = False
        first.append(case, [note("c")], actor="t")
        for k in range(5):
            (first if k % 2 else second).append(case, [note(f"turn {k}")], actor="t")
        with pytest.raises(RuntimeError):
            failing["now"] = True
            first.append(case, [note("rolled back again")], actor="t")
        failing["now"] = False
        second.append(case, [note("d")], actor="t")  # the same size the rolled-back one had, another leaf
        first.append(case, [note("e")], actor="t")
        first.append(case, [note("f")], actor="t")  # leaf 11 finishes a subtree over the rolled-back leaf's place
        events = all_events(first)
        assert len(events) == 12 and [e.data.get("text") for e in events].count("rolled back") == 0
        assert_tree_is_recomputation(first)
    finally:
        other_engine.dispose()


def test_without_the_log_an_append_gets_no_index_and_the_check_says_so(engine, clock):
    """Only the benchmark appends without the log; the full check reports such an event as outside the log."""
    store = EventStore(engine, clock, projection=CaseProjections())
    case = str(uuid.uuid4())
    store.append(case, [opened()], actor="t", new_stream=True)
    bare = EventStore(engine, clock, projection=CaseProjections(), log=False)
    assert bare.log is None
    [result] = bare.append(case, [note("unlogged")], actor="t")
    assert result.log_index is None
    with engine.connect() as conn:
        check = check_tree(conn)
    assert not check.ok and f"position {result.position} has no log_index" in check.problem


@pytest.fixture
def populated(engine, clock):
    store = EventStore(engine, clock, projection=CaseProjections())
    case = str(uuid.uuid4())
    store.append(case, [opened()], actor="t", new_stream=True)
    for k in range(10):
        store.append(case, [note(f"note {k}")], actor="t")
    return store


def test_the_log_and_its_nodes_refuse_update_and_delete(populated, engine):
    for statement in ("UPDATE log_nodes SET hash = hash", "DELETE FROM log_nodes", "UPDATE events SET log_index = 0"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))


def test_the_full_check_names_a_rewritten_event(populated, engine):
    with engine.begin() as conn:
        drop_guards(conn, engine.dialect.name == "postgresql")
        conn.execute(text("UPDATE events SET data = :d WHERE log_index = 4"), {"d": '{"text":"rewritten"}'})
    with engine.connect() as conn:
        check = check_tree(conn)
    assert not check.ok and check.problem.startswith("leaf 4 ")


def test_the_full_check_names_a_rewritten_node_a_missing_node_and_a_gap(populated, engine):
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        drop_guards(conn, postgres)
        conn.execute(text("UPDATE log_nodes SET hash = :h WHERE level = 2 AND idx = 1"), {"h": b"\x00" * 32})
    with engine.connect() as conn:
        check = check_tree(conn)
    assert not check.ok and check.problem == ("the stored node at level 2, index 1 does not match the leaves "
                                              "under it")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM log_nodes WHERE level = 2 AND idx = 1"))
    with engine.connect() as conn:
        assert "level 2, index 1" in check_tree(conn).problem
    with engine.begin() as conn:
        conn.execute(text("UPDATE events SET log_index = 40 WHERE log_index = 6"))
    with engine.connect() as conn:
        assert check_tree(conn).problem == "log_index 6 is missing: the log has a gap"


@pytest.mark.postgres
def test_concurrent_writers_on_postgresql_keep_log_index_dense_and_the_tree_exact(postgres_url, clock):
    """Writers with their own connections (as separate processes have) appending to different cases at once."""
    writers, appends = 4, 30
    engines = [make_engine(postgres_url) for _ in range(writers)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def write(engine) -> None:
        try:
            store = EventStore(engine, clock, projection=CaseProjections())
            case = str(uuid.uuid4())
            barrier.wait()
            store.append(case, [opened()], actor="t", new_stream=True)
            for k in range(appends):
                store.append(case, [note(f"{k}")] * (1 + k % 2), actor="t")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(e,)) for e in engines]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        store = EventStore(engines[0], clock)
        events = all_events(store)
        assert len(events) == writers * (1 + appends + appends // 2)
        assert_tree_is_recomputation(store)
    finally:
        for e in engines:
            e.dispose()


# ---- the migration builds the tree for an existing database ----

def _migrated_case_with_notes(engine, clock, notes: int) -> str:
    """A database migrated to head holding one case: CaseOpened, then `notes` notes, each its own append."""
    from events.migrations import upgrade

    upgrade(engine)
    store = EventStore(engine, clock, projection=CaseProjections())
    case = str(uuid.uuid4())
    store.append(case, [opened()], actor="t", new_stream=True)
    for k in range(notes):
        store.append(case, [note(f"note {k}")], actor="t")
    return case


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    from ..conftest import scratch_database

    with scratch_database(request.getfixturevalue("pg"), template=None) as url:
        yield url


def test_0012_builds_the_tree_of_an_existing_database_in_position_order_and_appends_go_on(empty_url, clock):
    from events.hashchain import GENESIS, chain_hash
    from events.migrations import upgrade
    from events.records import canonical_event
    from events.utc import to_db

    engine = make_engine(empty_url)
    postgres = engine.dialect.name == "postgresql"
    try:
        upgrade(engine, "0011")
        insert = text("INSERT INTO events (position, event_id, stream_id, version, type, schema_version, occurred_at, "
                      "date_precision, recorded_at, actor, data, source, prev_hash, hash) VALUES (:p, :e, :s, :v, "
                      ":type, 1, :t, 'exact', :t, 'a', :d, NULL, :prev, :h)")
        heads = {"case-a": GENESIS, "case-b": GENESIS}
        positions = [1, 2, 5, 9, 10, 11, 20, 21, 22, 40, 41]  # gaps, as rolled-back appends leave them
        with engine.begin() as conn:
            for n, position in enumerate(positions):
                stream = "case-a" if n % 3 else "case-b"
                version = sum(1 for m in range(n) if ("case-a" if m % 3 else "case-b") == stream) + 1
                type_, data = (("CaseOpened", '{"country":"FR","person":"v1.x","tags":[],"teams":["lyon"]}')
                               if version == 1 else ("NoteAdded", f'{{"text":"n{n}"}}'))
                at = START + timedelta(minutes=n)
                event_id = str(uuid.UUID(int=n))
                digest = chain_hash(heads[stream], canonical_event(event_id, stream, version, type_, 1, at, "exact",
                                                                   at, "a", data, None))
                conn.execute(insert, {"p": position, "e": event_id, "s": stream, "v": version, "type": type_,
                                      "t": to_db(at, postgres), "d": data, "prev": heads[stream], "h": digest})
                heads[stream] = digest
            if postgres:  # positions given by hand: the sequence must move past them, as appends would have
                conn.execute(text("SELECT setval(pg_get_serial_sequence('events', 'position'), 41)"))
        upgrade(engine)
        store = EventStore(engine, clock)  # these raw rows have no projections to fold into
        events = all_events(store)
        assert [e.position for e in events] == positions
        assert [store.verify(s).ok for s in heads] == [True, True]
        leaves = assert_tree_is_recomputation(store)
        store.append("case-b", [note("after the upgrade")], actor="t")
        [last] = all_events(store)[-1:]
        assert last.log_index == len(leaves)
        assert_tree_is_recomputation(store)
        for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM log_nodes"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text(statement))
    finally:
        engine.dispose()


def test_0025_keys_the_nodes_by_tree_size_and_level_and_goes_back_with_every_node(empty_url, clock):
    """0025 re-keys log_nodes by (tree_size, level): downgraded and upgraded again, every node comes through, the
    append-only guard holds, the full check passes and appends go on from the stored edge."""
    from alembic import command

    from events.log_tree import stored_size
    from events.fastsql import Raw
    from events.migrations import alembic_config, upgrade

    engine = make_engine(empty_url)
    try:
        case = _migrated_case_with_notes(engine, clock, 12)
        nodes = "SELECT level, idx, hash FROM log_nodes ORDER BY level, idx"
        with engine.connect() as conn:
            before = [tuple(r) for r in conn.execute(text(nodes))]
            keys = conn.execute(text("SELECT tree_size, level, idx FROM log_nodes")).all()
        assert keys and all(size == (idx + 1) << level for size, level, idx in keys)
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        for step in (lambda: command.downgrade(config, "0024"), lambda: upgrade(engine)):
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                step()
            with engine.connect() as conn:
                assert [tuple(r) for r in conn.execute(text(nodes))] == before
        with engine.connect() as conn:
            assert stored_size(Raw(conn)) == 13 and check_tree(conn).ok
        EventStore(engine, clock, projection=CaseProjections()).append(case, [note("after")], actor="t")
        with engine.connect() as conn:
            assert stored_size(Raw(conn)) == 14 and check_tree(conn).ok
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE log_nodes SET hash = hash"))
    finally:
        engine.dispose()


def test_0026_keys_sqlite_nodes_by_one_integer_and_goes_back_with_every_node(empty_url, clock):
    """0026 keys SQLite's nodes by node_key = (tree_size << 6) + level (PostgreSQL only gets the column, NULL):
    downgraded and upgraded again, every node comes through, the key is held to its definition, the full check
    and proofs pass (after a VACUUM too, which renumbers a hidden rowid but not an INTEGER PRIMARY KEY), and
    appends go on from the stored edge."""
    from alembic import command

    from events.fastsql import Raw
    from events.log_tree import LEVEL_BITS, LogTree, stored_size
    from events.migrations import alembic_config, upgrade

    engine = make_engine(empty_url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        case = _migrated_case_with_notes(engine, clock, 20)
        nodes = "SELECT tree_size, level, idx, hash FROM log_nodes ORDER BY level, idx"
        with engine.connect() as conn:
            before = [tuple(r) for r in conn.execute(text(nodes))]
            keys = conn.execute(text("SELECT node_key, tree_size, level FROM log_nodes")).all()
            root = LogTree().root(conn, 21)
        assert len(before) == len(keys) > 21
        if sqlite:
            assert all(key == (size << LEVEL_BITS) + level for key, size, level in keys)
        else:
            assert all(key is None for key, _, _ in keys)
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        for step, columns in ((lambda: command.downgrade(config, "0025"), {"tree_size", "level", "idx", "hash"}),
                              (lambda: upgrade(engine), {"tree_size", "level", "idx", "hash", "node_key"})):
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                step()
            with engine.connect() as conn:
                assert [tuple(r) for r in conn.execute(text(nodes))] == before
                found = {c for c in conn.execute(text("SELECT * FROM log_nodes LIMIT 1")).keys()}
                assert found == columns
        if sqlite:
            raw = engine.raw_connection()  # outside SQLAlchemy's transaction: VACUUM refuses to run in one
            try:
                raw.driver_connection.execute("VACUUM")
            finally:
                raw.close()
            with pytest.raises(DBAPIError, match="CHECK constraint failed"):  # a key that is not its node's
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO log_nodes (node_key, tree_size, level, idx, hash) "
                                      "VALUES (99999, 1000, 0, 999, x'00')"))
        with engine.connect() as conn:
            assert stored_size(Raw(conn)) == 21 and check_tree(conn).ok
            assert LogTree().root(conn, 21) == root
            proof = LogTree().inclusion(conn, 5, 21)
            assert merkle.verify_inclusion(before_leaf(before, 5), 5, 21, proof, root)
        EventStore(engine, clock, projection=CaseProjections()).append(case, [note("after")], actor="t")
        with engine.connect() as conn:
            assert stored_size(Raw(conn)) == 22 and check_tree(conn).ok
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE log_nodes SET hash = hash"))
    finally:
        engine.dispose()


def before_leaf(rows, index: int) -> bytes:
    """The stored hash of leaf `index` among (tree_size, level, idx, hash) rows."""
    return next(bytes(h) for _, level, idx, h in rows if level == 0 and idx == index)
