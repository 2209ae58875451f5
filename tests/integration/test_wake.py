"""The in-process worker is woken by the commit itself, not by a slow poll."""
from __future__ import annotations

import time

from fastapi.testclient import TestClient

from events.store import NewEvent
from notifications.outbox import Outbox
from service.app import create_app

from ..receiver import Receiver
from .helpers.delivery import REMOVED, append, clock, open_case, subscribe, wait_for  # noqa: F401 - clock: a fixture


def test_an_append_is_delivered_at_once_by_the_serving_process(box):
    box.worker.poll_seconds = 60  # only the wake-up after commit can deliver within the test's patience
    with Receiver() as receiver, TestClient(create_app(box, run_worker=True),
                                            headers={"Authorization": "Bearer test-admin-key"}) as client:
        subscribe(client, receiver.url("/hook"))
        case_id = open_case(client)
        started = time.monotonic()
        append(client, case_id, "Removed", REMOVED)
        wait_for(lambda: receiver.at("/hook"), timeout=5)
        assert time.monotonic() - started < 5


def test_a_hanging_receiver_does_not_hold_up_other_teams(box):
    box.worker.send_timeout = 20  # the hanging send stays in flight for the whole test
    with Receiver() as receiver, TestClient(create_app(box, run_worker=True),
                                            headers={"Authorization": "Bearer test-admin-key"}) as client:
        receiver.script("/stuck", "hang")
        subscribe(client, receiver.url("/stuck"))
        subscribe(client, receiver.url("/fine"))
        append(client, open_case(client), "Removed", REMOVED)
        wait_for(lambda: receiver.at("/fine") and receiver.at("/stuck"), timeout=5)
        append(client, open_case(client), "Removed", REMOVED)  # while the first send to /stuck still hangs
        wait_for(lambda: len(receiver.at("/fine")) == 2, timeout=5)
        # Recorded just after the receiver answered: wait for the record, not only the arrival.
        wait_for(lambda: [d["state"] for d in client.get("/v1/deliveries").json()["items"]].count("delivered") == 2,
                 timeout=5)


def test_an_outcome_already_known_is_recorded_after_a_database_blink_not_sent_again(box):
    """Recording fails twice (the database blinked): the worker tries again and keeps the outcome, so the receiver
    gets the alert once and the delivery reads delivered, without waiting for its lease to run out."""
    box.worker.record_retry_delays = (0.05, 0.05, 0.05)
    real_record, failures = box.worker.store.record, []

    def blinking(attempts):
        if len(failures) < 2:
            failures.append(len(attempts))
            raise OSError("database unreachable")
        return real_record(attempts)

    box.worker.store.record = blinking
    with Receiver() as receiver, TestClient(create_app(box, run_worker=True),
                                            headers={"Authorization": "Bearer test-admin-key"}) as client:
        subscribe(client, receiver.url("/hook"))
        append(client, open_case(client), "Removed", REMOVED)
        wait_for(lambda: [d for d in client.get("/v1/deliveries").json()["items"] if d["state"] == "delivered"],
                 timeout=10)
        assert len(failures) == 2 and len(receiver.at("/hook")) == 1


def test_a_commit_landing_while_the_worker_claims_is_not_lost(box):
    """Issue 15: the wake flag was cleared after the claim returned, erasing the wake-up of a commit made during
    the claim; that alert then waited for the poll. Here every claim lets an append commit (and wake the worker)
    before it returns, back to back; with a 60 s poll, only kept wake-ups deliver them (a finished send wakes no
    claim unless the prefetch limit left deliveries unclaimed)."""
    box.worker.poll_seconds = 60
    outbox_of(box).handoff = None  # every delivery goes through a claim here, so only the wake-up can send it
    real_claim, appended = box.worker.store.claim, []

    with Receiver() as receiver, TestClient(create_app(box, run_worker=True),
                                            headers={"Authorization": "Bearer test-admin-key"}) as client:
        subscribe(client, receiver.url("/hook"))
        cases = [open_case(client) for _ in range(5)]

        def claim_racing_a_commit(now, limit):
            found = real_claim(now, limit)
            if len(appended) < len(cases):
                case_id = cases[len(appended)]
                appended.append(case_id)
                box.store.append(case_id, [NewEvent("Removed", box.clock.now(), REMOVED)],
                                 actor="test")  # commits, then wakes the worker
            return found

        box.worker.store.claim = claim_racing_a_commit
        box.worker.wake()
        wait_for(lambda: len(receiver.at("/hook")) == len(cases), timeout=10)
    assert len(appended) == len(cases)


def outbox_of(box) -> Outbox:
    return next(step for step in box.store.reactions if isinstance(step, Outbox))


def test_a_running_worker_is_handed_its_processs_deliveries_without_claiming_them(box):
    """Issue 15: the append writes its deliveries leased to this process's worker and hands them over after the
    commit, so no claim transaction stands between the append and the send."""
    box.worker.poll_seconds = 60
    real_claim, claimed = box.worker.store.claim, []

    def counting_claim(now, limit):
        found = real_claim(now, limit)
        claimed.extend(found)
        return found

    box.worker.store.claim = counting_claim
    with Receiver() as receiver, TestClient(create_app(box, run_worker=True),
                                            headers={"Authorization": "Bearer test-admin-key"}) as client:
        subscribe(client, receiver.url("/hook"))
        for _ in range(3):
            append(client, open_case(client), "Removed", REMOVED)
        wait_for(lambda: len(receiver.at("/hook")) == 3, timeout=5)
        wait_for(lambda: [d["state"] for d in client.get("/v1/deliveries").json()["items"]] == ["delivered"] * 3,
                 timeout=5)
    assert claimed == []
    assert len({r.headers["webhook-id"] for r in receiver.at("/hook")}) == 3
