"""A write request's key and case reads share one pooled connection, which goes back before the append commits."""
from __future__ import annotations

from sqlalchemy import event

from events.fastsql import reading, shared_reads

def checkouts(engine) -> list[int]:
    taken: list[int] = []
    event.listen(engine, "checkout", lambda *_: taken.append(1))
    return taken


def test_readings_inside_shared_reads_take_one_checkout_and_give_it_back(engine):
    taken = checkouts(engine)
    with shared_reads(engine) as reads:
        with reading(engine) as first:
            assert first.one("SELECT 1")[0] == 1
        with reading(engine) as second:
            assert second is first
        assert len(taken) == 1
        reads.close()
        with reading(engine) as after:  # closed early: reads check out on their own again
            assert after is not first
        assert len(taken) == 2
    assert engine.pool.checkedout() == 0


def test_an_http_append_reads_its_key_and_case_on_one_checkout(client, engine):
    case_id = client.post("/v1/cases", json={"person": {"name": "A B"}, "country": "TR"}).json()["id"]
    event_ = {"type": "NoteAdded", "occurred_at": "2024-01-01T00:00:00Z", "data": {"text": "seen"}}
    held, taken = engine.pool.checkedout(), checkouts(engine)  # the app may keep one of its own
    assert client.post(f"/v1/cases/{case_id}/events", json=event_).status_code == 201
    reads = len(taken)
    with_bad_key = client.post(f"/v1/cases/{case_id}/events", json=event_, headers={"Authorization": "Bearer no"})
    assert with_bad_key.status_code == 401
    other_case = client.post("/v1/cases/no-such-case/events", json=event_)
    assert other_case.status_code == 404
    assert engine.pool.checkedout() == held
    assert reads == 1, reads  # the key and the case's teams; the append writes on the writer's own connection
