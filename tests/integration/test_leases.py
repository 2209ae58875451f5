"""Delivery leases and worker heartbeats, on a clock the test moves: a live worker's lease holds, a silent one's
does not, a clean stop gives leases back (issue 15's restart)."""
from __future__ import annotations

from datetime import timedelta

from notifications.delivery_store import DeliveryStore

from .helpers.delivery import REMOVED, open_case, subscribe

LEASE = timedelta(minutes=10)


def _two_pending(client, box) -> None:
    subscribe(client, "https://hooks.ngo.example/a")
    for _ in range(2):
        case_id = open_case(client)
        response = client.post(f"/v1/cases/{case_id}/events", json={
            "type": "Removed", "occurred_at": box.clock.now().isoformat(), "data": REMOVED})
        assert response.status_code == 201, response.text


def test_a_lease_holds_while_its_worker_beats_and_frees_once_it_falls_silent(client, box):
    _two_pending(client, box)
    first, second = (DeliveryStore(box.engine, LEASE, worker_id=name, stale_after=timedelta(seconds=5))
                     for name in ("first", "second"))
    now = box.clock.now()
    assert len(first.claim(now, 10)) == 2
    assert second.claim(now + timedelta(seconds=4), 10) == []  # first beat 4 s ago: still alive
    first.beat(now + timedelta(seconds=8))
    assert second.claim(now + timedelta(seconds=12), 10) == []  # it beat again
    taken = second.claim(now + timedelta(seconds=14), 10)  # silent for 6 s: its leases are free
    assert len(taken) == 2 and all(c.lease_until == now + timedelta(seconds=14) + LEASE for c in taken)
    assert first.claim(now + timedelta(seconds=15), 10) == []  # and now second's


def test_a_clean_stop_gives_its_leases_back_at_once(client, box):
    _two_pending(client, box)
    first = DeliveryStore(box.engine, LEASE, worker_id="first")
    second = DeliveryStore(box.engine, LEASE, worker_id="second")
    now = box.clock.now()
    assert len(first.claim(now, 10)) == 2
    assert second.claim(now, 10) == []
    assert first.leave() == 2
    assert len(second.claim(now, 10)) == 2
