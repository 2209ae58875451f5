"""Hand-offs that arrive together are sent as one batch, without reading back what the appends wrote: a failing
delivery leaves the others alone, and a worker that dies holding a batch loses none of it (issue 15)."""
from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from notifications.delivery_store import DeliveryStore
from notifications.worker import DeliveryWorker
from service.app import create_app

from ..receiver import Receiver
from .helpers.delivery import REMOVED, append, clock, open_case, subscribe, wait_for  # noqa: F401 - clock: a fixture


def _held_back(box) -> list[tuple]:
    """Hand-offs the appends make, kept instead of taken, so the test decides when (and whether) they arrive."""
    held: list[tuple] = []
    box.worker.take = lambda handed, lease_until, zones: held.append((handed, lease_until, zones))
    return held


def _ids(held: list[tuple]) -> set[str]:
    """The delivery ids of held hand-offs, each handed whole (a Claimed) or by id."""
    return {getattr(item, "id", item) for handed, _, _ in held for item in handed}


def _counting_reads(box) -> list[int]:
    reads, real = [], box.worker.store.leased

    def leased(leases):
        reads.append(len(leases))
        return real(leases)

    box.worker.store.leased = leased
    return reads


def test_hand_offs_arriving_together_are_sent_unread_and_a_failure_fails_only_its_own(box):
    box.worker.poll_seconds = 60  # nothing is claimed: only the hand-offs can send
    held, reads = _held_back(box), _counting_reads(box)
    with Receiver() as receiver, TestClient(create_app(box, run_worker=True),
                                            headers={"Authorization": "Bearer test-admin-key"}) as client:
        receiver.script("/broken", 500)
        subscribe(client, receiver.url("/fine"))
        subscribe(client, receiver.url("/broken"))
        for _ in range(3):
            append(client, open_case(client), "Removed", REMOVED)
        assert [len(ids) for ids, _, _ in held] == [2, 2, 2]
        # All three arrive in one turn of the worker's loop, as a group commit's answers do.
        box.worker._loop.call_soon_threadsafe(lambda: [DeliveryWorker.take(box.worker, *h) for h in held])
        wait_for(lambda: len(receiver.at("/fine")) == 3 and len(receiver.at("/broken")) == 3, timeout=10)
        wait_for(lambda: sorted(d["state"] for d in client.get("/v1/deliveries").json()["items"])
                 == ["delivered"] * 3 + ["failed"] * 3, timeout=10)
    assert reads == []  # each append handed over the deliveries it wrote, with all they need
    assert len({r.headers["webhook-id"] for r in receiver.at("/fine") + receiver.at("/broken")}) == 6


def test_a_worker_that_dies_holding_a_batch_loses_none_of_it(box):
    """The appends wrote their deliveries leased to this worker, which died (no clean stop gave them back) before
    sending: once its heartbeat is stale, another worker takes every one of them, under the same ids."""
    held = _held_back(box)
    box.worker.store.leave = lambda: 0  # a SIGKILL gives nothing back
    with TestClient(create_app(box, run_worker=True), headers={"Authorization": "Bearer test-admin-key"}) as client:
        subscribe(client, "https://hooks.ngo.example/a")
        for _ in range(3):
            append(client, open_case(client), "Removed", REMOVED)
    handed = _ids(held)
    assert len(handed) == 3
    other = DeliveryStore(box.engine, timedelta(seconds=60), worker_id="other", stale_after=timedelta(seconds=5))
    now = box.clock.now()
    assert other.claim(now, 10) == []  # its lease and heartbeat still hold
    taken = other.claim(now + timedelta(seconds=6), 10)
    assert {c.id for c in taken} == handed


def test_a_delivery_handed_whole_is_the_one_the_worker_would_read_back(box):
    """The append hands over what it wrote (subscription, alert and event alike) instead of the worker reading it:
    each handed delivery must equal the row read back, for every subscription's language and data setting."""
    held = _held_back(box)
    with TestClient(create_app(box, run_worker=True), headers={"Authorization": "Bearer test-admin-key"}) as client:
        both = {"event_types": ["Removed", "Detained"]}
        subscribe(client, "https://hooks.ngo.example/a", filter=both)
        subscribe(client, "https://hooks.ngo.example/b", filter=both, include_personal_data=True, language="fr")
        append(client, open_case(client), "Removed", REMOVED)
        append(client, open_case(client), "Detained", {"place": "Almaty"}, occurred_at="2026-11-30")
    whole = [item for handed, _, _ in held for item in handed if not isinstance(item, str)]
    assert len(whole) == 4
    for c in whole:
        assert box.worker.store.leased({c.id: c.lease_until}) == [c]
