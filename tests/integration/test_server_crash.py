"""A server killed with SIGKILL under eight writers loses no acknowledged append and stores no resend twice
(SQLite and PostgreSQL): what the attack run saw hold, kept in the suite."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from events.personal_data import new_master_key

from ..pg_server import free_port

VIGIL = str(Path(sys.executable).with_name("vigil"))
KEY = "crash-admin-key"
WRITERS = 8
ROUNDS = 3


def start(db_url: str, master_key: str, workdir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_") or k == "VIGIL_KEYRING_FILE"}
    env.update({"VIGIL_DATABASE_URL": db_url, "VIGIL_MASTER_KEY": master_key, "VIGIL_BOOTSTRAP_ADMIN_KEY": KEY,
                "VIGIL_RATE_LIMIT_PER_MINUTE": "0", "VIGIL_RUN_WORKER": "false"})
    with (workdir / "serve.log").open("a") as log:
        process = subprocess.Popen([VIGIL, "serve", "--port", str(port)], cwd=workdir, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("vigil serve did not start: " + (workdir / "serve.log").read_text()[-2000:])
        time.sleep(0.1)


def note(key: str) -> dict:
    return {"type": "NoteAdded", "occurred_at": "2026-01-01T00:00:00Z", "data": {"text": key}}


def test_sigkill_under_eight_writers_loses_nothing_acknowledged(db_url, tmp_path):
    master_key, port = new_master_key(), free_port()
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {KEY}"}
    process = start(db_url, master_key, tmp_path, port)
    cases = [httpx.post(base + "/v1/cases", headers=auth, timeout=10,
                        json={"person": {"name": f"Crash {i}"}, "country": "FR"}).json()["id"] for i in range(4)]
    acknowledged: dict[str, str] = {}  # idempotency key -> case id
    unknown: dict[str, str] = {}  # sent, answer lost in the crash
    lock = threading.Lock()
    resent = 0
    try:
        for round_no in range(ROUNDS):
            stop = threading.Event()

            def write(writer: int) -> None:
                with httpx.Client(base_url=base, headers=auth, timeout=10) as client:
                    for i in range(10_000):
                        key = f"r{round_no}-w{writer}-{i}"
                        case_id = cases[(writer + i) % len(cases)]
                        try:
                            response = client.post(f"/v1/cases/{case_id}/events", json=note(key),
                                                   headers={"Idempotency-Key": key})
                        except httpx.HTTPError:
                            with lock:
                                unknown[key] = case_id
                            return
                        assert response.status_code == 201, response.text
                        with lock:
                            acknowledged[key] = case_id
                        if stop.is_set():
                            return

            threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
            for thread in threads:
                thread.start()
            while len(acknowledged) < 60 * (round_no + 1):  # mid-load, not at rest
                time.sleep(0.01)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            process = start(db_url, master_key, tmp_path, port)
            for key, case_id in list(unknown.items()):  # a client resends what it never heard back about
                again = httpx.post(f"{base}/v1/cases/{case_id}/events", headers={**auth, "Idempotency-Key": key},
                                   json=note(key), timeout=10)
                assert again.status_code == 201, again.text
                acknowledged[key] = unknown.pop(key)
                resent += 1
        stored: dict[str, int] = {}
        for case_id in cases:
            items = httpx.get(f"{base}/v1/cases/{case_id}/events", headers=auth, params={"limit": 10_000},
                              timeout=30).json()["items"]
            assert [e["version"] for e in items] == list(range(1, len(items) + 1))
            for event in items:
                if event["type"] == "NoteAdded":
                    stored[event["data"]["text"]] = stored.get(event["data"]["text"], 0) + 1
            assert httpx.get(f"{base}/v1/cases/{case_id}/verify", headers=auth, timeout=30).json()["ok"] is True
        assert len(acknowledged) >= 60 * ROUNDS and resent >= 1  # the kills did cut requests short
        assert {key: stored.get(key, 0) for key in acknowledged} == {key: 1 for key in acknowledged}
        assert set(stored) == set(acknowledged)  # nothing stored that nobody sent
    finally:
        process.kill()
        process.wait()
