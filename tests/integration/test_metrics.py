"""GET /metrics: what the counters count, who may read them, no personal data in labels, and several processes."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from events.personal_data import new_master_key
from service import metrics, metrics_setup
from service.keys import KeyService

from ..pg_server import free_port
from .helpers.delivery import drain
from .helpers.processes import VIGIL, ready

NAME = "Metrics Person Zeta"
TOKEN = "metrics-scrape-token-7f3a"
REMOVED = {"type": "Removed", "occurred_at": "2026-03-01T11:00:00Z",
           "data": {"method": "deported", "destination": "UZ"}}


def scrape(client, **headers) -> tuple[dict, str]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text), response.text


def parse(text: str) -> dict:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def subscribe(client, url: str) -> None:
    response = client.post("/v1/subscriptions", json={"name": "desk", "channel": {"kind": "webhook", "url": url},
                                                      "filter": {"event_types": ["Removed"]}})
    assert response.status_code == 201, response.text


def open_case(client) -> str:
    response = client.post("/v1/cases", json={"person": {"name": NAME, "aliases": ["Zeta Alias"]}, "country": "FR"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_scrape_counts_appends_requests_and_deliveries_without_personal_data(client, box, clock, receiver):
    before, _ = scrape(client)
    subscribe(client, receiver.url("/hook"))
    subscribe(client, receiver.url("/gone"))
    receiver.script("/gone", 410)  # dead at once
    case_id = open_case(client)
    assert client.post(f"/v1/cases/{case_id}/events", json=REMOVED).status_code == 201
    stranger = str(uuid.uuid4())
    assert client.get(f"/v1/cases/{stranger}").status_code == 404
    assert client.get(f"/no/such/page/{stranger}").status_code == 404

    clock.advance(timedelta(seconds=30))
    waiting, _ = scrape(client)  # the outbox gauges come from the database at scrape time
    assert value(waiting, "vigil_outbox_pending_deliveries") == 2
    assert 30 <= value(waiting, "vigil_outbox_oldest_pending_age_seconds") < 31
    assert value(waiting, "vigil_outbox_dead_deliveries") == 0

    assert drain(box) == 2
    after, text = scrape(client)
    assert moved(before, after, "vigil_appends_total", event_type="CaseOpened", outcome="committed") == 1
    assert moved(before, after, "vigil_appends_total", event_type="Removed", outcome="committed") == 1
    assert moved(before, after, "vigil_http_requests_total", method="POST", route="/v1/cases", status="201") == 1
    assert moved(before, after, "vigil_http_requests_total", method="POST", route="/v1/cases/{case_id}/events",
                 status="201") == 1
    assert moved(before, after, "vigil_http_requests_total", method="GET", route="/v1/cases/{case_id}",
                 status="404") == 1
    assert moved(before, after, "vigil_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert moved(before, after, "vigil_http_request_duration_seconds_count", method="GET",
                 route="/v1/cases/{case_id}") == 1
    assert moved(before, after, "vigil_deliveries_total", channel="webhook", outcome="delivered") == 1
    assert moved(before, after, "vigil_deliveries_total", channel="webhook", outcome="dead") == 1
    assert moved(before, after, "vigil_delivery_latency_seconds_count", channel="webhook") == 1
    assert 30 <= moved(before, after, "vigil_delivery_latency_seconds_sum", channel="webhook") < 40
    assert value(after, "vigil_outbox_pending_deliveries") == 0
    assert value(after, "vigil_outbox_oldest_pending_age_seconds") == 0
    assert value(after, "vigil_outbox_dead_deliveries") == 1

    secrets = [case_id, stranger, NAME, "Zeta", "Alias", "desk", receiver.url("")]
    labels = {v for (_, pairs) in after for _, v in pairs}
    assert not [v for v in labels for s in secrets if s.casefold() in v.casefold()]
    assert not [s for s in secrets if s in text]


def test_each_append_outcome_has_its_label(client):
    before, _ = scrape(client)
    case_id = open_case(client)
    note = {"type": "NoteAdded", "occurred_at": "2026-03-01T11:00:00Z", "data": {"text": "visited"}}
    once = {"Idempotency-Key": "metrics-1"}
    assert client.post(f"/v1/cases/{case_id}/events", json=note, headers=once).status_code == 201
    assert client.post(f"/v1/cases/{case_id}/events", json=note, headers=once).status_code == 201  # replayed
    assert client.post(f"/v1/cases/{case_id}/events", json=note, headers={"If-Match": "1"}).status_code == 409
    assert client.post(f"/v1/cases/{uuid.uuid4()}/events", json=note).status_code == 404
    odd = {**note, "type": f"Made Up {case_id}"}  # a client's own type never becomes a label value
    assert client.post(f"/v1/cases/{case_id}/events", json=odd).status_code == 422
    after, text = scrape(client)
    for outcome, count in (("committed", 1), ("duplicate", 1), ("conflict", 1), ("not_found", 1)):
        assert moved(before, after, "vigil_appends_total", event_type="NoteAdded", outcome=outcome) == count, outcome
    assert moved(before, after, "vigil_appends_total", event_type="unknown", outcome="rejected") == 1
    assert "Made Up" not in text and case_id not in text


def test_metrics_need_an_admin_key_or_the_metrics_token(client, box):
    box.settings.metrics_token = TOKEN
    editor = KeyService(box.engine, box.clock).create("editor", "lyon", "editor")
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401  # not as bearer
    assert client.get("/metrics", headers={"Authorization": b"Bearer \xe9\xff"}).status_code == 401  # not 500
    assert client.get("/metrics", headers={"Authorization": f"Bearer {editor}"}).status_code == 403
    scrape(client, Authorization=f"Bearer {TOKEN}")
    scrape(client)  # the admin key


def test_reminders_and_the_tick_are_counted(client, box, clock, receiver):
    before, _ = scrape(client)
    subscribe(client, receiver.url("/hook"))
    case_id = open_case(client)
    hearing = clock.now() + timedelta(days=4)
    response = client.post(f"/v1/cases/{case_id}/events", json={
        "type": "HearingScheduled", "occurred_at": clock.now().isoformat(),
        "data": {"court": "c", "kind": "appeal", "at": hearing.isoformat()}})
    assert response.status_code == 201, response.text
    tick = metrics.timed_tick(box.ticker.tick)  # what the scheduler runs
    clock.set(hearing - timedelta(hours=72) + timedelta(seconds=5))
    tick()  # the 72 h reminder, on time
    clock.set(hearing - timedelta(hours=1))
    tick()  # after downtime: the 2 h one fires late, the 24 h one is skipped
    after, _ = scrape(client)
    assert moved(before, after, "vigil_reminders_total", outcome="fired") == 1
    assert moved(before, after, "vigil_reminders_total", outcome="late") == 1
    assert moved(before, after, "vigil_reminders_total", outcome="skipped") == 1
    assert moved(before, after, "vigil_scheduler_tick_duration_seconds_count") == 2


def test_the_metrics_directory_is_private_and_only_dead_processes_files_are_wiped(tmp_path, monkeypatch):
    monkeypatch.setenv(metrics_setup.ENV, "set")  # so that monkeypatch removes what configure sets
    monkeypatch.delenv(metrics_setup.ENV)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert metrics_setup.configure(None, 1)() is None and metrics_setup.ENV not in os.environ  # one process
    done = metrics_setup.configure(None, 2)
    private = Path(os.environ[metrics_setup.ENV])
    assert private.parent == tmp_path and stat.S_IMODE(private.stat().st_mode) == 0o700
    done()
    assert not private.exists()

    shared = tmp_path / "shared"
    shared.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    (shared / f"counter_{dead.pid}.db").write_bytes(b"x")
    (shared / f"histogram_{os.getpid()}.db").write_bytes(b"x")
    metrics_setup.configure(shared, 2, wipe_stale=True)()
    assert os.environ[metrics_setup.ENV] == str(shared) and shared.exists()
    assert [f.name for f in shared.iterdir()] == [f"histogram_{os.getpid()}.db"]


# ---- several processes ----
def start(args: list[str], env: dict, cwd: Path, log_name: str) -> tuple[subprocess.Popen, Path]:
    log_path = cwd / log_name
    with log_path.open("w") as log:  # a file, not a pipe: a full pipe would stall the process
        return subprocess.Popen([VIGIL, *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT), log_path


def wait_for(check, process: subprocess.Popen, log_path: Path, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what}: " + log_path.read_text()[-2000:])
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_") and k != metrics_setup.ENV}
    env.update({"VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}", "VIGIL_MASTER_KEY": new_master_key(),
                "VIGIL_BOOTSTRAP_ADMIN_KEY": "mp-admin-key", "VIGIL_RATE_LIMIT_PER_MINUTE": "0",
                "VIGIL_METRICS_TOKEN": TOKEN, "TMPDIR": str(tmp_path / "tmp"), **extra})
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return env


def serve_two(tmp_path: Path, env: dict) -> tuple[subprocess.Popen, Path, str]:
    port = free_port()
    process, log_path = start(["serve", "--port", str(port), "--workers", "2"], env, tmp_path, "serve.log")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: len(set(re.findall(r"Started server process \[(\d+)\]", log_path.read_text()))) == 2
             and ready(base), process, log_path, "vigil serve --workers 2 did not start")
    return process, log_path, base


def fresh_scrape(base: str) -> dict:
    # A new connection each time, so scrapes land on either process.
    response = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert response.status_code == 200, response.text
    return parse(response.text)


def served_by(log_path: Path, path: str) -> set[str]:
    """The process ids that logged an answer to GET `path`."""
    return set(re.findall(rf"\[(\d+)\] vigil\.requests GET {re.escape(path)} 200", log_path.read_text()))


def test_two_server_processes_report_one_total_whichever_answers(tmp_path):
    process, log_path, base = serve_two(tmp_path, serve_env(tmp_path))
    try:
        [private] = (tmp_path / "tmp").glob("vigil-metrics-*")  # made by `vigil serve`, as no directory was set
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        # Which process accepts a connection is the kernel's choice: send until both have answered (bounded).
        sent = 0
        while sent < 40 or (len(served_by(log_path, "/healthz")) < 2 and sent < 1000):
            assert httpx.get(base + "/healthz", timeout=30).status_code == 200
            sent += 1
        assert len(served_by(log_path, "/healthz")) == 2, "both processes should have answered"
        healthz = {"method": "GET", "route": "/healthz", "status": "200"}
        wait_for(lambda: value(fresh_scrape(base), "vigil_http_requests_total", **healthz) == sent, process,
                 log_path, "the requests were not all counted", seconds=5)
        scraped = []
        while len(scraped) < 10 or (len(served_by(log_path, "/metrics")) < 2 and len(scraped) < 500):
            samples = fresh_scrape(base)
            assert value(samples, "vigil_http_requests_total", **healthz) == sent
            scraped.append(value(samples, "vigil_http_requests_total", method="GET", route="/metrics",
                                 status="200"))
        # Every earlier scrape, whichever process took it (the count lands just after the answer is sent).
        assert scraped == sorted(scraped) and scraped[-1] >= len(scraped) - 1
        assert len(served_by(log_path, "/metrics")) == 2, "the scrapes should have landed on both processes"
    finally:
        stop(process)
    assert not private.exists()  # removed once the server processes are gone


def test_a_worker_process_shares_the_directory_set_by_vigil_metrics_dir(tmp_path, receiver):
    shared = tmp_path / "metrics"
    env = serve_env(tmp_path, VIGIL_METRICS_DIR=str(shared), VIGIL_RUN_WORKER="false",
                    VIGIL_WEBHOOK_ALLOW_PRIVATE_NETWORKS="true", VIGIL_WORKER_POLL_SECONDS="0.2")
    server, _, base = serve_two(tmp_path, env)
    worker, worker_log = start(["worker"], env, tmp_path, "worker.log")
    try:
        wait_for(lambda: "delivery worker running" in worker_log.read_text(), worker, worker_log,
                 "vigil worker did not start")
        with httpx.Client(base_url=base, headers={"Authorization": "Bearer mp-admin-key"}, timeout=30) as client:
            subscribe(client, receiver.url("/hook"))
            case_id = open_case(client)
            assert client.post(f"/v1/cases/{case_id}/events", json=REMOVED).status_code == 201
        wait_for(lambda: receiver.at("/hook"), worker, worker_log, "the worker did not deliver")
        # The server processes deliver nothing here: only the worker's file can hold this count.
        wait_for(lambda: value(fresh_scrape(base), "vigil_deliveries_total", channel="webhook",
                               outcome="delivered") == 1, worker, worker_log, "the delivery was not counted")
        assert value(fresh_scrape(base), "vigil_appends_total", event_type="Removed", outcome="committed") == 1
    finally:
        stop(worker)
        stop(server)
    assert shared.exists()  # an operator's directory is kept
