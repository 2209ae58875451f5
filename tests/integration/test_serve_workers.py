"""Several processes writing one SQLite file: the writer lock they share, and `vigil serve --workers 2`."""
from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from events.engine import make_engine
from events.writer_lock import writer_lock_path
from events.personal_data import new_master_key

from ..pg_server import free_port
from .helpers.processes import VIGIL, ready

REPO = Path(__file__).resolve().parents[2]
KEY = "serve-workers-admin-key"
EVENT = {"type": "NoteAdded", "occurred_at": "2024-01-01T00:00:00Z", "data": {"text": "Lawyer visited."}}

HOLDER = textwrap.dedent("""
    import sys
    from events.engine import make_engine
    from events.transactions import appending, writing
    engine = make_engine(sys.argv[1])
    for name, transaction in (("writing", writing), ("appending", appending)):
        with transaction(engine):
            print(name, flush=True)
            sys.stdin.readline()  # hold the write until the test has looked
    print("done", flush=True)
""")


def lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def test_a_write_holds_the_writer_lock_against_other_processes(sqlite_url):
    path = writer_lock_path(make_engine(sqlite_url))
    assert path.endswith("vigil.db-writer.lock")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, sqlite_url], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        for name in ("writing", "appending"):
            assert holder.stdout.readline().strip() == name
            assert not lock_is_free(path), f"another process could write during {name}"
            holder.stdin.write("\n")
            holder.stdin.flush()
        assert holder.stdout.readline().strip() == "done"
        assert lock_is_free(path)
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def two_workers(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update({"VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}", "VIGIL_MASTER_KEY": new_master_key(),
                "VIGIL_BOOTSTRAP_ADMIN_KEY": KEY, "VIGIL_RATE_LIMIT_PER_MINUTE": "0"})
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen([VIGIL, "serve", "--port", str(port), "--workers", "2"], cwd=tmp_path, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        # Both processes must be up, not just the first to bind, before the load starts.
        while len(set(re.findall(r"Started server process \[(\d+)\]", log_path.read_text()))) < 2 or \
                not ready(base):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("vigil serve --workers 2 did not start: " + log_path.read_text()[-2000:])
            time.sleep(0.2)
        yield base, log_path
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_two_server_processes_append_to_one_sqlite_file_without_losing_or_forking_anything(two_workers):
    base, log_path = two_workers
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        shared = client.post("/v1/cases", json={"person": {"name": "Shared Case"}, "country": "KZ"}).json()["id"]
        own = [client.post("/v1/cases", json={"person": {"name": f"Person {i}"}, "country": "UZ"}).json()["id"]
               for i in range(6)]

    def writer(case_id: str) -> list[int]:
        # A fresh connection per request, so requests spread over both processes.
        statuses = []
        for target in (case_id, shared) * 15:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
                statuses.append(c.post(f"/v1/cases/{target}/events", json=EVENT).status_code)
        return statuses

    with ThreadPoolExecutor(6) as pool:
        statuses = [s for result in pool.map(writer, own) for s in result]
    assert statuses == [201] * 180

    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for case_id, appended in [(shared, 90)] + [(c, 15) for c in own]:
            versions = [e["version"] for e in client.get(f"/v1/cases/{case_id}/events").json()["items"]]
            assert versions == list(range(1, appended + 2))  # CaseOpened, then every append, no gap, no twin
            assert client.get(f"/v1/cases/{case_id}").json()["version"] == appended + 1  # projection kept up
            assert client.get(f"/v1/cases/{case_id}/verify").json()["ok"] is True
        positions = [e["position"] for e in client.get("/v1/events", params={"limit": 1000}).json()["items"]]
        assert positions == sorted(positions) and len(positions) == 7 + 180
    served_by = set(re.findall(r"\[(\d+)\] vigil\.requests POST /v1/cases/\S+/events 201", log_path.read_text()))
    assert len(served_by) == 2, "both processes should have taken appends"
