"""Group commit: appends that arrive together share one commit, and one's failure is its caller's alone."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from events.case_projections import CaseProjections
from events.fastsql import Raw
from events.store import ConcurrencyConflict, EventStore, NewEvent

from ..integration.helpers.store_checks import assert_sound

T0 = datetime(2023, 11, 1, tzinfo=timezone.utc)


def opened() -> NewEvent:
    return NewEvent("CaseOpened", T0, {"person": "v1.sealed", "country": "FR", "tags": [], "teams": ["t"]})


def note(text_: str) -> NewEvent:
    return NewEvent("NoteAdded", T0, {"text": text_})


class Refused(Exception):
    pass


def refuse_on(stream_id: str):
    """A reaction (so it runs after the event row, its leaf and the projection are written) that fails for one
    stream: what it wrote must be rolled back, and only there."""
    def reaction(conn, sid, appended, folded, context) -> None:
        if sid == stream_id:
            raise Refused(sid)
    return reaction


def batch_sizes(store: EventStore) -> list[int]:
    """Record the size of every batch the store writes."""
    sizes: list[int] = []
    write = store._group._write_batch

    def recording(take):
        sizes.append(0)

        def counted():
            request = take()
            sizes[-1] += request is not None
            return request
        return write(counted)
    store._group._write_batch = recording
    return sizes


def gathered(store: EventStore, first: callable, others: list[callable]) -> list[object]:
    """Run `first` and hold its transaction open until every one of `others` is queued behind it, so they all
    join its batch. Returns each other's result or the exception it raised."""
    holding, release = threading.Event(), threading.Event()

    def hold(_conn) -> None:
        holding.set()
        assert release.wait(10)

    leader = threading.Thread(target=first, args=(hold,))
    leader.start()
    assert holding.wait(10)
    outcomes: list[object] = [None] * len(others)

    def run(i: int) -> None:
        try:
            outcomes[i] = others[i]()
        except Exception as exc:  # the outcome under test
            outcomes[i] = exc
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(others))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(store._group._queue) < len(others):
        assert time.monotonic() < deadline, "the appends never queued"
        time.sleep(0.005)
    release.set()
    leader.join(10)
    for t in threads:
        t.join(10)
    return outcomes


def test_a_conflicting_append_fails_alone_and_its_batch_mates_commit(engine, clock):
    store = EventStore(engine, clock, projection=CaseProjections())
    sids = [str(uuid.uuid4()) for _ in range(4)]
    for sid in sids:
        store.append(sid, [opened()], actor="a", new_stream=True)
    sizes = batch_sizes(store)
    appends = [lambda sid=sid: store.append(sid, [note("ok"), note("ok 2")], actor="a", expected_version=1)
               for sid in sids[1:]]
    appends[1] = lambda: store.append(sids[2], [note("late")], actor="a", expected_version=7)  # stale
    outcomes = gathered(store, lambda hold: store.append(sids[0], [note("first")], actor="a", before_insert=hold),
                        appends)
    assert sizes == [4]  # the three arrived while the first was being written and joined its batch
    assert isinstance(outcomes[1], ConcurrencyConflict) and outcomes[1].actual == 1
    for sid, outcome in ((sids[1], outcomes[0]), (sids[3], outcomes[2])):
        assert [r.version for r in outcome] == [2, 3]
        assert [e.version for e in store.read_stream(sid)] == [1, 2, 3]
    assert [e.version for e in store.read_stream(sids[2])] == [1]
    positions = [e.position for e in store.read_all(0, limit=100)]
    assert positions == sorted(positions) and len(positions) == 4 + 1 + 4
    assert outcomes[0][-1].position < outcomes[2][0].position  # in the batch's order
    assert_sound(engine, store)


def test_a_failing_step_rolls_back_only_its_own_append(engine, clock):
    sids = [str(uuid.uuid4()) for _ in range(4)]
    store = EventStore(engine, clock, projection=CaseProjections(), reactions=[refuse_on(sids[2])])
    for sid in sids:
        if sid != sids[2]:
            store.append(sid, [opened()], actor="a", new_stream=True)
    sizes = batch_sizes(store)
    appends = [lambda: store.append(sids[1], [note("1")], actor="a"),
               lambda: store.append(sids[2], [opened(), note("never")], actor="a", new_stream=True),
               lambda: store.append(sids[3], [note("3")], actor="a")]
    outcomes = gathered(store, lambda hold: store.append(sids[0], [note("0")], actor="a", before_insert=hold),
                        appends)
    assert sizes == [4]
    assert isinstance(outcomes[1], Refused)
    assert [r.version for r in outcomes[0]] == [2] and [r.version for r in outcomes[2]] == [2]
    assert store.read_stream(sids[2]) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM case_projections WHERE case_id = :c"),
                            {"c": sids[2]}).scalar() == 0
        # The rolled-back append's leaves are gone too: the log stays dense.
        indexes = conn.execute(text("SELECT log_index FROM events ORDER BY log_index")).scalars().all()
    assert indexes == list(range(len(indexes))) and len(indexes) == 3 + 1 + 2
    assert_sound(engine, store)
    # The store goes on from the batch's committed state.
    store.append(sids[1], [note("after")], actor="a", expected_version=2)
    assert_sound(engine, store)


def test_an_idempotent_retry_in_the_same_batch_gets_the_first_results(engine, clock):
    store = EventStore(engine, clock, projection=CaseProjections())
    sids = [str(uuid.uuid4()) for _ in range(2)]
    for sid in sids:
        store.append(sid, [opened()], actor="a", new_stream=True)
    same = lambda: store.append(sids[1], [note("x")], actor="a", idempotency_key="k")  # noqa: E731
    outcomes = gathered(store, lambda hold: store.append(sids[0], [note("0")], actor="a", before_insert=hold),
                        [same, same])
    assert outcomes[0][0].position == outcomes[1][0].position
    assert sorted(r.created for o in outcomes for r in o) == [False, True]
    assert [e.version for e in store.read_stream(sids[1])] == [1, 2]


@pytest.mark.parametrize("writers", [8])
def test_many_writers_share_commits_and_lose_nothing(engine, clock, writers):
    store = EventStore(engine, clock, projection=CaseProjections())
    sizes = batch_sizes(store)
    sids = [str(uuid.uuid4()) for _ in range(writers)]
    errors: list[BaseException] = []

    def write(sid: str) -> None:
        try:
            store.append(sid, [opened()], actor="a", new_stream=True)
            for i in range(30):
                store.append(sid, [note(str(i))], actor="a", expected_version=i + 1)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
    threads = [threading.Thread(target=write, args=(sid,)) for sid in sids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(sizes) == writers * 31
    for sid in sids:
        assert [e.version for e in store.read_stream(sid)] == list(range(1, 32))
    assert_sound(engine, store)


def test_a_step_whose_statement_fails_in_the_database_fails_alone(engine, clock):
    """On PostgreSQL a failed statement aborts the whole transaction until its savepoint is rolled back."""
    store = EventStore(engine, clock, projection=CaseProjections())
    sids = [str(uuid.uuid4()) for _ in range(3)]
    for sid in sids:
        store.append(sid, [opened()], actor="a", new_stream=True)

    def bad_statement(conn) -> None:
        conn.execute(text("INSERT INTO case_projections (case_id) VALUES (NULL)"))  # NOT NULL columns

    appends = [lambda: store.append(sids[1], [note("bad")], actor="a", before_insert=bad_statement),
               lambda: store.append(sids[2], [note("good")], actor="a")]
    outcomes = gathered(store, lambda hold: store.append(sids[0], [note("0")], actor="a", before_insert=hold),
                        appends)
    assert isinstance(outcomes[0], ConcurrencyConflict)  # as the same failure alone: never a 500
    assert [r.version for r in outcomes[1]] == [2]
    assert [e.version for e in store.read_stream(sids[1])] == [1]
    assert [e.version for e in store.read_stream(sids[2])] == [1, 2]
    assert_sound(engine, store)


def test_when_a_batch_s_first_append_fails_the_appends_queued_behind_it_still_commit(engine, clock):
    """The first append of a batch runs without a savepoint (as a lone one does): its failure rolls back the
    transaction before anyone else was taken into it, and the next leader writes the rest."""
    store = EventStore(engine, clock, projection=CaseProjections())
    sids = [str(uuid.uuid4()) for _ in range(3)]
    for sid in sids:
        store.append(sid, [opened()], actor="a", new_stream=True)
    sizes = batch_sizes(store)
    failure: list[BaseException] = []

    def first(hold) -> None:
        def hold_then_fail(conn) -> None:
            hold(conn)
            raise Refused("first")
        try:
            store.append(sids[0], [note("0")], actor="a", before_insert=hold_then_fail)
        except Refused as exc:
            failure.append(exc)

    outcomes = gathered(store, first, [lambda sid=sid: store.append(sid, [note("x")], actor="a") for sid in sids[1:]])
    assert len(failure) == 1 and sizes == [1, 2]
    assert [[r.version for r in o] for o in outcomes] == [[2], [2]]
    assert [e.version for e in store.read_stream(sids[0])] == [1]
    assert_sound(engine, store)


def fail_later_on(stream_id: str):
    """A reaction whose write for one stream fails in the database, sent as `later` sends it: on PostgreSQL the
    failure surfaces only with a later statement of the batch, perhaps another append's."""
    def reaction(conn, sid, appended, folded, context) -> None:
        if sid == stream_id:
            context.raw.later("INSERT INTO case_projections (case_id) VALUES (NULL)")  # NOT NULL columns
    return reaction


@pytest.mark.parametrize("failing", [0, 1, 3])
def test_a_write_sent_ahead_that_fails_fails_only_its_own_append(engine, clock, failing):
    sids = [str(uuid.uuid4()) for _ in range(4)]
    opener = EventStore(engine, clock, projection=CaseProjections())
    for sid in sids:
        opener.append(sid, [opened()], actor="a", new_stream=True)
    store = EventStore(engine, clock, projection=CaseProjections(), reactions=[fail_later_on(sids[failing])])
    sizes = batch_sizes(store)
    results: list[object] = [None] * 4

    def first(hold) -> None:
        try:
            results[0] = store.append(sids[0], [note("n")], actor="a", before_insert=hold)
        except Exception as exc:  # the outcome under test
            results[0] = exc
    results[1:] = gathered(store, first, [lambda sid=sid: store.append(sid, [note("n")], actor="a")
                                          for sid in sids[1:]])
    # On SQLite the failure is the first append's own at once (as a lone one's is); on PostgreSQL it surfaces
    # with a later statement of the batch, whose appends taken so far are then written again (the first began
    # alone and kept its write for the COMMIT; the others joining sent it in the batch's first pipeline).
    alone = failing == 0 and engine.dialect.name == "sqlite"
    assert sizes == [1, 3] if alone else (sum(sizes) == 4 and sizes[0] > 1)
    for i, sid in enumerate(sids):
        if i == failing:
            assert isinstance(results[i], ConcurrencyConflict)  # a failed statement: never a 500
            assert [e.version for e in store.read_stream(sid)] == [1]
        else:
            assert [r.version for r in results[i]] == [2]
            assert [e.version for e in store.read_stream(sid)] == [1, 2]
    assert_sound(engine, store)
    store.append(sids[(failing + 1) % 4], [note("after")], actor="a", expected_version=2)  # the store goes on
    assert_sound(engine, store)


def test_an_append_s_statements_go_in_two_round_trips_alone_and_one_in_a_batch(engine, clock, monkeypatch):
    """PostgreSQL, no pipeline mode: a lone append sends BEGIN, its lock and its insert in one simple query and its
    projection's write with the COMMIT in another; an append that joins a batch sends the write before it, its
    savepoint and its insert in one. (PREPAREs, once per statement and connection, are not counted.) SQLite never
    keeps statements."""
    sent: list[str] = []
    send_kept, execute, with_deferred = Raw._send_kept, Raw._execute, Raw._with_deferred

    def counting_kept(self, sql=None, params=None, then=None):
        sent.append("kept")
        return send_kept(self, sql, params, then)

    def counting_execute(self, sql, params):
        sent.append("alone")
        return execute(self, sql, params)

    def counting_pipeline(self, then):
        sent.append("pipeline")
        return with_deferred(self, then)
    monkeypatch.setattr(Raw, "_send_kept", counting_kept)
    monkeypatch.setattr(Raw, "_execute", counting_execute)
    monkeypatch.setattr(Raw, "_with_deferred", counting_pipeline)
    store = EventStore(engine, clock, projection=CaseProjections())
    sids = [str(uuid.uuid4()) for _ in range(4)]
    for sid in sids:
        store.append(sid, [opened()], actor="a", new_stream=True)
    store.append(sids[0], [note("alone")], actor="a")
    postgres = engine.dialect.name == "postgresql"
    del sent[:]
    store.append(sids[0], [note("alone again")], actor="a")  # its head and projection row are remembered
    assert sent == (["kept", "kept"] if postgres else ["alone"] * len(sent))
    sizes = batch_sizes(store)
    del sent[:]

    def first(hold) -> None:
        store.append(sids[0], [note("0")], actor="a", before_insert=hold)
    outcomes = gathered(store, first, [lambda sid=sid: store.append(sid, [note("x")], actor="a") for sid in sids[1:]])
    assert sizes == [1, 3] or sizes == [4]  # the others joined the first, or the batch right after it
    assert [[r.version for r in o] for o in outcomes] == [[2], [2], [2]]
    if postgres:  # each insert answered with what was kept before it, then the COMMIT: nothing sent alone
        assert sent == ["kept"] * (4 + len(sizes)) and "pipeline" not in sent
    else:
        assert set(sent) == {"alone"}
    assert_sound(engine, store)


def test_a_lone_append_s_write_kept_for_the_commit_fails_it_alone_and_writes_nothing(engine, clock):
    """PostgreSQL keeps a lone append's unanswered writes for its COMMIT's round trip: one that fails there fails
    that append (a conflict, never a 500), nothing of it is committed, and the store goes on."""
    sid = str(uuid.uuid4())
    EventStore(engine, clock, projection=CaseProjections()).append(sid, [opened()], actor="a", new_stream=True)
    store = EventStore(engine, clock, projection=CaseProjections(), reactions=[fail_later_on(sid)])
    with pytest.raises(ConcurrencyConflict):
        store.append(sid, [note("n")], actor="a")
    assert [e.version for e in store.read_stream(sid)] == [1]
    with engine.connect() as conn:
        assert CaseProjections.get(conn, sid).version == 1
    other = str(uuid.uuid4())
    store.append(other, [opened()], actor="a", new_stream=True)
    assert [r.version for r in store.append(other, [note("after")], actor="a")] == [2]
    assert_sound(engine, store)


def test_values_bound_into_kept_statements_are_quoted(engine, clock):
    """A kept write's values are bound as text (PostgreSQL): quotes, percent signs and placeholders-lookalikes in
    them are stored as given."""
    store = EventStore(engine, clock, projection=CaseProjections())
    sid = str(uuid.uuid4())
    tags = ["50%", "%(case_id)s", "it's", "a\\b", "'; DROP TABLE events; --"]
    data = {"person": "v1.sealed", "country": "FR", "tags": tags, "teams": ["t%s"]}
    store.append(sid, [NewEvent("CaseOpened", T0, data)], actor="a", new_stream=True)
    store.append(sid, [note("%s 100%")], actor="a")
    with engine.connect() as conn:
        row = CaseProjections.get(conn, sid)
    assert row.version == 2 and sorted(row.state.tags) == sorted(tags) and list(row.state.teams) == ["t%s"]
    assert_sound(engine, store)


def rolls_back_a_savepoint(conn, sid, appended, folded, context) -> None:
    """A step that reads, then rolls back to a savepoint of its own, as the reminder planner may. Left to prepare
    statements itself, psycopg would prepare the read once it has run five times, and a ROLLBACK it sees for the
    first time (the savepoint is named anew each time) would then make it DEALLOCATE ALL."""
    # Rows: psycopg prepares their statement itself.
    context.raw.many("UPDATE case_projections SET version = version WHERE case_id = :c", [{"c": sid}] * 2)
    context.raw.send_deferred()  # each statement then goes alone
    name = f"step_{appended[-1].version}"
    for statement in ("SELECT 1", f"SAVEPOINT {name}", f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}"):
        context.raw.run(statement)


def test_a_step_s_rollback_to_a_savepoint_loses_no_prepared_statement(engine, clock):
    """PostgreSQL: the append connection's statements are prepared once (SQL PREPARE, see `Raw`); psycopg's own
    preparing would DEALLOCATE ALL after a ROLLBACK TO SAVEPOINT, and an append would then fail on a statement
    gone. Alone and in batches, every append still commits."""
    store = EventStore(engine, clock, projection=CaseProjections(), reactions=[rolls_back_a_savepoint])
    sids = [str(uuid.uuid4()) for _ in range(4)]
    for sid in sids:
        store.append(sid, [opened()], actor="a", new_stream=True)
    for i in range(12):
        store.append(sids[i % 4], [note(str(i))], actor="a")
    outcomes = gathered(store, lambda hold: store.append(sids[0], [note("first")], actor="a", before_insert=hold),
                        [lambda sid=sid: store.append(sid, [note("x")], actor="a") for sid in sids[1:]])
    assert [[r.version for r in o] for o in outcomes] == [[5], [5], [5]]
    store.append(sids[0], [note("last")], actor="a")
    assert [len(store.read_stream(sid)) for sid in sids] == [6, 5, 5, 5]
    assert_sound(engine, store)
