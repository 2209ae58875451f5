"""Real `vigil worker` processes: killed mid-send and restarted, and three sharing one outbox (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter

from sqlalchemy import select

from notifications.tables import deliveries, worker_heartbeats

from ..receiver import Receiver
from .helpers.delivery import REMOVED, append, clock, open_case, subscribe, wait_for  # noqa: F401 - clock: a fixture
from .helpers.processes import VIGIL

def start_worker(settings, lease_seconds: float, tick_seconds: float = 15, poll_seconds: float = 0.2
                 ) -> subprocess.Popen:
    env = {**os.environ, "VIGIL_DATABASE_URL": settings.database_url, "VIGIL_MASTER_KEY": settings.master_key,
           "VIGIL_DELIVERY_LEASE_SECONDS": str(lease_seconds), "VIGIL_WORKER_POLL_SECONDS": str(poll_seconds),
           "VIGIL_SCHEDULER_TICK_SECONDS": str(tick_seconds), "VIGIL_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"}
    worker = subprocess.Popen([VIGIL, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert "delivery worker running" in worker.stdout.readline()  # started, schema checked
    return worker


def states(box) -> Counter:
    with box.engine.connect() as conn:
        return Counter(conn.execute(select(deliveries.c.state)).scalars())


def delivery_ids(box) -> set[str]:
    with box.engine.connect() as conn:
        return set(conn.execute(select(deliveries.c.id)).scalars())


def kill_with_all_on_the_wire(client, settings, receiver, alerts: int, lease_seconds: float) -> None:
    """`alerts` removals to a receiver that hangs on every request; a `vigil worker` sends them all, then is
    SIGKILLed with every one of them in flight."""
    receiver.script("/hook", "hang")
    subscribe(client, receiver.url("/hook"))
    for _ in range(alerts):
        append(client, open_case(client), "Removed", REMOVED)
    worker = start_worker(settings, lease_seconds=lease_seconds)
    try:
        wait_for(lambda: len({r.headers["webhook-id"] for r in receiver.at("/hook")}) == alerts)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()


def test_worker_killed_mid_send_loses_nothing_and_keeps_webhook_ids(client, box, settings):
    with Receiver() as receiver:
        kill_with_all_on_the_wire(client, settings, receiver, 10, lease_seconds=2)
        in_flight = {r.headers["webhook-id"] for r in receiver.at("/hook")}
        assert states(box) == Counter({"pending": 10})  # nothing was recorded as sent
        for _ in range(5):  # and more arrive while no worker runs
            append(client, open_case(client), "Removed", REMOVED)
        receiver.script("/hook", 200)
        worker = start_worker(settings, lease_seconds=2)
        try:
            wait_for(lambda: states(box) == Counter({"delivered": 15}))
        finally:
            worker.terminate()
            worker.wait(timeout=10)
        received = Counter(r.headers["webhook-id"] for r in receiver.at("/hook"))
        assert set(received) == delivery_ids(box)  # every delivery arrived under its own id
        assert in_flight <= set(received) and all(received[i] == 2 for i in in_flight)  # resent, same id


def test_sqlite_server_without_worker_wakes_the_worker_process(client, box, settings):
    """`vigil serve` with VIGIL_RUN_WORKER=false on SQLite pokes the `vigil worker` after each commit that left
    deliveries: with a 30 s poll, each of several back-to-back alerts still arrives within seconds."""
    import time

    import pytest

    if not settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL wakes workers with LISTEN/NOTIFY")
    with Receiver() as receiver:
        subscribe(client, receiver.url("/hook"))
        worker = start_worker(settings, lease_seconds=30, poll_seconds=30)
        try:
            wait_for(lambda: box.engine.connect().execute(select(worker_heartbeats.c.worker_id)).first() is not None)
            time.sleep(0.5)  # its first claim (which found nothing) is over: only a wake-up claims again
            for sent in range(1, 6):
                append(client, open_case(client), "Removed", REMOVED)
                wait_for(lambda: len(receiver.at("/hook")) == sent, timeout=5)  # not the 30 s poll
        finally:
            worker.terminate()
            worker.wait(timeout=10)


def test_three_workers_send_each_delivery_once(db_url, clock, tmp_path):
    from fastapi.testclient import TestClient

    from events.personal_data import new_master_key
    from service.app import create_app
    from service.container import build_container
    from service.settings import Settings

    settings = Settings(_env_file=None, database_url=db_url, master_key=new_master_key(),
                        bootstrap_admin_key="k", run_worker=False, webhook_allow_private_networks=True)
    box = build_container(settings, clock=clock)
    with Receiver() as receiver, TestClient(create_app(box), headers={"Authorization": "Bearer k"}) as client:
        for _ in range(20):
            subscribe(client, receiver.url("/hook"))
        workers = [start_worker(settings, lease_seconds=30) for _ in range(3)]
        try:
            for _ in range(10):
                append(client, open_case(client), "Removed", REMOVED)
            wait_for(lambda: states(box) == Counter({"delivered": 200}))
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=10)
        received = Counter(r.headers["webhook-id"] for r in receiver.at("/hook"))
        assert len(received) == 200 and set(received.values()) == {1}
        assert set(received) == delivery_ids(box)
    box.close()


def test_three_ticking_processes_send_each_reminder_once(db_url, clock):
    import json
    from datetime import datetime, timedelta, timezone

    from fastapi.testclient import TestClient

    from events.personal_data import new_master_key
    from notifications.tables import reminders
    from service.app import create_app
    from service.container import build_container
    from service.settings import Settings

    settings = Settings(_env_file=None, database_url=db_url, master_key=new_master_key(),
                        bootstrap_admin_key="k", run_worker=False, webhook_allow_private_networks=True)
    box = build_container(settings, clock=clock)
    with Receiver() as receiver, TestClient(create_app(box), headers={"Authorization": "Bearer k"}) as client:
        subscribe(client, receiver.url("/hook"), filter={"event_types": ["HearingScheduled"]}, reminders=["PT1H"])
        workers = [start_worker(settings, lease_seconds=30, tick_seconds=0.2) for _ in range(3)]
        try:
            hearing_at = datetime.now(timezone.utc) + timedelta(hours=1, seconds=4)  # its 1 h reminder: in 4 s
            for _ in range(20):
                case_id = open_case(client)
                append(client, case_id, "HearingScheduled", {"court": "c", "kind": "appeal",
                                                             "at": hearing_at.isoformat()})

            def all_sent() -> bool:
                with box.engine.connect() as conn:
                    # The hearing's outcome watch (due after the hearing has passed) stays pending.
                    left = conn.execute(select(reminders.c.id).where(reminders.c.state != "sent",
                                                                     reminders.c.kind != "outcome_overdue")).first()
                return left is None and states(box) == Counter({"delivered": 40})  # 20 events + 20 reminders
            wait_for(all_sent)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=10)
        rules = Counter(json.loads(r.body)["data"]["rule"] for r in receiver.at("/hook"))
        alerts = Counter(json.loads(r.body)["id"] for r in receiver.at("/hook"))
        assert rules == Counter({"event.HearingScheduled": 20, "reminder.hearing": 20})
        assert set(alerts.values()) == {1}
    box.close()


def test_a_killed_workers_deliveries_resume_long_before_its_lease_runs_out(client, box, settings):
    """Issue 15: leases name their worker, and the worker beats a heartbeat; once the killed worker's heartbeat is
    stale, a new worker takes over its deliveries, though their ten-minute leases have far to run."""
    with Receiver() as receiver:
        kill_with_all_on_the_wire(client, settings, receiver, 5, lease_seconds=600)
        receiver.script("/hook", 200)
        worker = start_worker(settings, lease_seconds=600)
        try:
            wait_for(lambda: states(box) == Counter({"delivered": 5}), timeout=60)
        finally:
            worker.terminate()
            worker.wait(timeout=10)
        received = Counter(r.headers["webhook-id"] for r in receiver.at("/hook"))
        assert set(received) == delivery_ids(box) and set(received.values()) == {2}  # the five on the wire, resent


def test_a_worker_stopped_cleanly_gives_back_what_it_did_not_send(client, box, settings):
    with Receiver() as receiver:
        receiver.script("/hook", "hang")
        subscribe(client, receiver.url("/hook"))
        for _ in range(3):
            append(client, open_case(client), "Removed", REMOVED)
        worker = start_worker(settings, lease_seconds=600)
        try:
            wait_for(lambda: len(receiver.at("/hook")) == 3)
        finally:
            worker.terminate()
            assert worker.wait(timeout=30) == 0
        with box.engine.connect() as conn:
            rows = conn.execute(select(deliveries.c.state, deliveries.c.lease_until, deliveries.c.leased_by)).all()
            beating = conn.execute(select(worker_heartbeats)).all()
        assert [tuple(r) for r in rows] == [("pending", None, None)] * 3 and beating == []


def test_case_zones_as_the_worker_reads_them(client, box):
    """The worker's one read of a claim's case zones (pre-written SQL): each asked case's zone, None for a case
    without one, nothing for an unknown id or an empty ask."""
    with_zone = client.post("/v1/cases", json={"person": {"name": "Z"}, "country": "FR", "origin_country": "UZ",
                                               "timezone": "Asia/Tashkent"}).json()["id"]
    without = open_case(client)
    assert box.cases.zones([with_zone, without, "no-such-case"]) == {with_zone: "Asia/Tashkent", without: None}
    assert box.cases.zones([]) == {}
