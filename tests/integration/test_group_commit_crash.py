"""SIGKILL a process mid-batch: every append it acknowledged is stored, none is half-written (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from events.case_projections import CaseProjections
from events.clock import SystemClock
from events.store import EventStore

from .helpers.store_checks import assert_sound

ROOT = Path(__file__).resolve().parents[2]
KILLS = 5


def run_and_kill(db_url: str, acknowledged: dict[str, int], delay: float) -> None:
    """Start the writer, let it share batches, SIGKILL it `delay` seconds after a leader took a second append."""
    child = subprocess.Popen([sys.executable, "-m", "tests.integration.helpers.group_writer", db_url], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def heard(line: str) -> str:
        kind, *rest = line.split()
        if kind == "ack":
            acknowledged[rest[0]] = max(acknowledged[rest[0]], int(rest[1]))
        return kind

    shared = acks = 0
    try:
        for line in child.stdout:
            kind = heard(line)
            acks += kind == "ack"
            shared += kind == "shared"
            if shared >= 5 and acks >= 50:
                time.sleep(delay)
                os.kill(child.pid, signal.SIGKILL)
                break
        else:
            raise AssertionError("the writer stopped: " + child.stderr.read()[-2000:])
    finally:
        child.kill()
        child.wait()
    for line in child.stdout:  # written before the kill: acknowledged too
        heard(line)
    assert child.returncode == -signal.SIGKILL


def test_a_kill_mid_batch_loses_nothing_acknowledged_and_half_writes_nothing(db_url, engine):
    acknowledged: dict[str, int] = defaultdict(lambda: -1)  # stream -> last append it was told was durable
    rng = random.Random(20)
    for _ in range(KILLS):
        run_and_kill(db_url, acknowledged, rng.uniform(0, 0.003))
    store = EventStore(engine, SystemClock(), projection=CaseProjections())
    assert len(acknowledged) == 8 * KILLS
    for sid in store.stream_ids():
        texts = [e.data["text"] for e in store.read_stream(sid)[1:]]
        # Whole appends only (each is "<n>a", "<n>b"), in order, none twice; stale ones never written.
        assert texts == [f"{n}{half}" for n in range(len(texts) // 2) for half in "ab"], sid
        assert len(texts) // 2 - 1 >= acknowledged.get(sid, -1), sid  # nothing acknowledged was lost
    assert set(acknowledged) <= set(store.stream_ids())
    assert_sound(engine, store)
