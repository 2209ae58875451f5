"""SIGKILL a process mid-batch: every append it acknowledged is stored, none is half-written (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from events.case_projections import CaseProjections
from events.clock import SystemClock
from events.store import EventStore

from .helpers.store_checks import assert_sound

ROOT = Path(__file__).resolve().parents[2]


def test_a_kill_mid_batch_loses_nothing_acknowledged_and_half_writes_nothing(db_url, engine):
    child = subprocess.Popen([sys.executable, "-m", "tests.integration.helpers.group_writer", db_url], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acknowledged: dict[str, int] = defaultdict(lambda: -1)  # stream -> last append it was told was durable
    shared = acks = 0
    try:
        for line in child.stdout:
            kind, *rest = line.split()
            if kind == "ack":
                acknowledged[rest[0]] = max(acknowledged[rest[0]], int(rest[1]))
                acks += 1
            elif kind == "shared":
                shared += 1
                if shared >= 20 and acks >= 200:
                    os.kill(child.pid, signal.SIGKILL)  # a leader has just begun writing a batch of several
                    break
        else:
            raise AssertionError("the writer stopped: " + child.stderr.read()[-2000:])
    finally:
        child.kill()
        child.wait()
        # What the pipe still held was written before the kill: acknowledged too.
        for line in child.stdout:
            kind, *rest = line.split()
            if kind == "ack":
                acknowledged[rest[0]] = max(acknowledged[rest[0]], int(rest[1]))
    assert child.returncode == -signal.SIGKILL
    store = EventStore(engine, SystemClock(), projection=CaseProjections())
    assert len(acknowledged) == 8
    for sid in store.stream_ids():
        texts = [e.data["text"] for e in store.read_stream(sid)[1:]]
        # Whole appends only (each is "<n>a", "<n>b"), in order, none twice; stale ones never written.
        assert texts == [f"{n}{half}" for n in range(len(texts) // 2) for half in "ab"], sid
        assert len(texts) // 2 - 1 >= acknowledged.get(sid, -1), sid  # nothing acknowledged was lost
    assert set(acknowledged) <= set(store.stream_ids())
    assert_sound(engine, store)
