"""Issue 20's targets in one run, short repeated runs alternating the systems, medians reported:

    .venv/bin/python -m bench.concurrent_append [--repeats 3]

* sequential: one event per append, Vigil's `EventStore.append` (case projection) against `eventsourcing`'s
  application recorder (`insert_events`, which assigns a gap-safe global notification id, as Vigil's position
  is), SQLite and PostgreSQL (bench/store_append.py's runs);
* concurrent: 8 threads, each appending to a stream of its own, against the same recorder driven by 8 threads
  (its datastore's pool sized 8);
* HTTP: 8 keep-alive clients (bench/http_append.RawClient, a few tens of microseconds per request) posting
  appends to one `vigil serve` and to bench/minimal_app.py, each served by uvicorn on a SQLite file.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from . import store_append as sa
from .common import fresh_dir

WRITERS = 8
REPO = Path(__file__).resolve().parent.parent


def _threads(work, writers: int) -> float:
    """Seconds for `writers` threads to each run work(i), started together."""
    start = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
        except BaseException as exc:  # counted below: a benchmark that lost appends is no benchmark
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - began


def vigil_concurrent(url: str, per_writer: int, sizes: list[int]) -> float:
    from events.clock import SystemClock
    from events.engine import make_engine
    from events.migrations import upgrade
    from events.store import EventStore, NewEvent

    engine = make_engine(url)
    try:
        upgrade(engine)
        clock = SystemClock()
        store = EventStore(engine, clock, **sa.make_steps(clock, outbox=False))
        write_batch = store._group._write_batch

        def counted(take):
            sizes.append(0)

            def counting():
                request = take()
                sizes[-1] += request is not None
                return request
            return write_batch(counting)
        store._group._write_batch = counted

        def work(_i: int) -> None:
            sid = str(uuid.uuid4())
            store.append(sid, [NewEvent("CaseOpened", datetime.now(timezone.utc), sa.OPEN_DATA)], actor="bench",
                         new_stream=True)
            for _ in range(per_writer - 1):
                store.append(sid, [NewEvent("NoteAdded", datetime.now(timezone.utc), sa.NOTE_DATA)], actor="bench")
        elapsed = _threads(work, WRITERS)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one() == WRITERS * per_writer
        return WRITERS * per_writer / elapsed
    finally:
        engine.dispose()


def peer_concurrent(insert, per_writer: int) -> float:
    from eventsourcing.persistence import StoredEvent

    def work(_i: int) -> None:
        sid = uuid.uuid4()
        for version in range(1, per_writer + 1):
            insert([StoredEvent(sid, version, sa._topic(version), sa._peer_state(version))])
    return WRITERS * per_writer / _threads(work, WRITERS)


def sqlite_peer_concurrent(per_writer: int) -> float:
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    with fresh_dir("sqlite-peer-c") as d:
        datastore = sa._es_sqlite_datastore(f"{d}/bench.db")
        datastore.pool.pool_size = max(datastore.pool.pool_size, WRITERS)
        try:
            recorder = SQLiteApplicationRecorder(datastore)
            recorder.create_table()
            return peer_concurrent(recorder.insert_events, per_writer)
        finally:
            datastore.close()


def pg_peer_concurrent(server, per_writer: int, name: str) -> float:
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    server.create_database(name)
    try:
        datastore = PostgresDatastore(name, "127.0.0.1", server.port, "postgres", "", pool_size=WRITERS)
        try:
            recorder = PostgresApplicationRecorder(datastore)
            recorder.create_table()
            server.checkpoint()
            return peer_concurrent(recorder.insert_events, per_writer)
        finally:
            datastore.close()
    finally:
        server.drop_database(name)


def pg_vigil_concurrent(server, per_writer: int, name: str, sizes: list[int]) -> float:
    server.create_database(name)
    try:
        return vigil_concurrent(server.sqlalchemy_url(name), per_writer, sizes)
    finally:
        server.drop_database(name)


# ---------------------------------------------------------------- HTTP
def _minimal_server(workdir: str):
    from tests.pg_server import free_port

    from .http_append import Server

    port = free_port()
    log_path = os.path.join(workdir, "minimal.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bench.minimal_app", str(port)], cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, env={**os.environ, "MINIMAL_DB": f"{workdir}/minimal.db"})
    import httpx
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return Server(proc, base, log_path)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the minimal app did not start")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_rate(minimal: bool, per_client: int, cpu_ms: list[float] | None = None) -> float:
    """Appends/s of 8 lean clients against a fresh server; the server's CPU milliseconds per request go to
    `cpu_ms` (the honest measure on a shared machine: throughput also counts what others run)."""
    from . import http_append as ha

    with fresh_dir("http-min" if minimal else "http-vigil") as d:
        server = _minimal_server(str(d)) if minimal else ha.start_server(str(d))
        try:
            ids = [str(uuid.uuid4()) for _ in range(WRITERS)] if minimal else ha.open_cases(server.base, WRITERS)
            ha.saturated(server.base, ids, 10, raw=True)  # untimed: first-request costs, on both servers
            before = process_cpu(server.proc.pid)
            rate, _latencies, errors = ha.saturated(server.base, ids, per_client, raw=True)
            if cpu_ms is not None:
                cpu_ms.append((process_cpu(server.proc.pid) - before) * 1000 / (WRITERS * per_client))
            assert errors == 0, errors
            return rate
        finally:
            server.stop()


def measure(repeats: int, events: int, http: int, store: bool = True, with_http: bool = True,
            with_pg: bool = True, with_sqlite: bool = True,
            log=print) -> tuple[dict[str, list[float]], list[int]]:
    """Every run of every system, alternating run by run; also the batch sizes of Vigil's concurrent runs and,
    under "cpu http vigil" / "cpu http minimal", the servers' CPU ms per request."""
    results: dict[str, list[float]] = {}
    sizes: list[int] = []
    per_writer = events // WRITERS
    streams, per_stream = 60, max(1, events // 60)
    server = None
    if store and with_pg:
        from .pg import start_durable_postgres
        server = start_durable_postgres()
    try:
        for r in range(repeats):
            runs = {}
            if store and with_sqlite:
                runs.update({
                    "sqlite sequential vigil": lambda: sa.sqlite_vigil(streams, per_stream, {}),
                    "sqlite sequential peer": lambda: sa.sqlite_peer(streams, per_stream, {}, application=True),
                    "sqlite concurrent vigil": lambda: _in_dir(lambda d: vigil_concurrent(
                        f"sqlite:///{d}/bench.db", per_writer, sizes)),
                    "sqlite concurrent peer": lambda: sqlite_peer_concurrent(per_writer),
                })
            if with_http:
                runs.update({
                    "http vigil": lambda: http_rate(False, http, results.setdefault("cpu http vigil", [])),
                    "http minimal": lambda: http_rate(True, http, results.setdefault("cpu http minimal", [])),
                })
            if server is not None:
                runs.update({
                    "pg sequential vigil": lambda: sa.pg_vigil(server, streams, per_stream, f"sv{r}"),
                    "pg sequential peer": lambda: sa.pg_peer(server, streams, per_stream, f"sp{r}", application=True),
                    "pg concurrent vigil": lambda: pg_vigil_concurrent(server, per_writer, f"cv{r}", sizes),
                    "pg concurrent peer": lambda: pg_peer_concurrent(server, per_writer, f"cp{r}"),
                })
            labels = list(runs)
            for label in labels[r % len(labels):] + labels[:r % len(labels)]:  # the order rotates every repeat
                results.setdefault(label, []).append(runs[label]())
                log(f"run {r + 1} {label}: {results[label][-1]:,.0f}/s")
    finally:
        if server is not None:
            server.stop()
    return results, sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--events", type=int, default=1200, help="events per sequential/concurrent run")
    parser.add_argument("--http", type=int, default=250, help="requests per HTTP client")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args(argv)
    results, sizes = measure(args.repeats, args.events, args.http, with_http=not args.skip_http,
                             with_pg=not args.skip_pg, with_sqlite=not args.skip_sqlite)
    med = {k: statistics.median(v) for k, v in results.items()}
    print("\nmedians (events/s; cpu: server ms per request):")
    for k, v in med.items():
        print(f"  {k:28s} {v:9,.2f}" if k.startswith("cpu") else f"  {k:28s} {v:9,.0f}")
    for db in ("sqlite", "pg"):
        for mode in ("sequential", "concurrent"):
            if f"{db} {mode} vigil" in med:
                print(f"  {db} {mode}: {med[f'{db} {mode} vigil'] / med[f'{db} {mode} peer']:.2f}x the peer")
    if "http vigil" in med:
        print(f"  http: {med['http vigil'] / med['http minimal']:.2f}x the minimal app")
    if sizes:
        print(f"  concurrent batches: mean {statistics.mean(sizes):.1f} appends, max {max(sizes)}")
    return 0


def _in_dir(fn):
    with fresh_dir("sqlite-vigil-c") as d:
        return fn(d)


if __name__ == "__main__":
    raise SystemExit(main())
