"""Delivery benchmarks: event committed -> signed webhook received (paced 50/s), and one event fanned out to 1,000.

Runs a real `vigil serve` (SQLite, in-process worker) and a local receiver that verifies every signature with the
reference `standardwebhooks` package. Usage: .venv/bin/python -m bench.delivery [--quick]
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

from tests.pg_server import free_port

ADMIN = "bench-admin-key"


class Receiver:
    """The uvicorn receiver (bench/receiver.py) in its own process; arrival times are time.monotonic()."""

    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "bench.receiver", str(self.port)],
                                        cwd=Path(__file__).resolve().parent.parent)
        self.url = f"http://127.0.0.1:{self.port}/hook"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/_results")
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("receiver did not start")

    def verify_with(self, secret: str) -> None:
        httpx.post(f"http://127.0.0.1:{self.port}/_secret", content=secret)

    def results(self) -> dict:
        return httpx.get(f"http://127.0.0.1:{self.port}/_results").json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_server(workdir: Path, settings: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`vigil serve` with its worker on workdir/vigil.db; `settings` (VIGIL_* variables) override the defaults, e.g.
    the same VIGIL_MASTER_KEY to restart on the same data."""
    from events.personal_data import new_master_key

    port = free_port()
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{workdir}/vigil.db", "VIGIL_MASTER_KEY": new_master_key(),
           "VIGIL_BOOTSTRAP_ADMIN_KEY": ADMIN, "VIGIL_RUN_WORKER": "true",
           "VIGIL_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",  # the receiver is on 127.0.0.1
           "VIGIL_RATE_LIMIT_PER_MINUTE": "0", **(settings or {})}  # one key drives the whole load
    vigil = str(Path(sys.executable).parent / "vigil")
    server = subprocess.Popen([vigil, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("vigil serve did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency_run(rate: float, seconds: float) -> dict:
    """Paced appends (one Detained per case); latency = request sent -> signed webhook verified at the receiver."""
    with tempfile.TemporaryDirectory() as tmp:
        receiver = Receiver()
        server, base = start_server(Path(tmp))
        try:
            client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"})
            sub = client.post("/v1/subscriptions", json={"name": "bench", "channel": {"kind": "webhook",
                              "url": receiver.url}, "filter": {"event_types": ["Detained"]}}).json()
            receiver.verify_with(sub["secret"])
            count = int(rate * seconds)
            cases = [client.post("/v1/cases", json={"person": {"name": "Bench Person"}, "country": "KZ"}).json()["id"]
                     for _ in range(count)]
            sent: dict[str, float] = {}
            start = time.perf_counter()
            for i, case_id in enumerate(cases):
                due = start + i / rate
                while (pause := due - time.perf_counter()) > 0:
                    time.sleep(pause)
                t0 = time.monotonic()
                answer = client.post(f"/v1/cases/{case_id}/events", json={
                    "type": "Detained", "occurred_at": datetime.now(timezone.utc).isoformat(), "data": {"place": "Almaty"}})
                sent[answer.json()["event_id"]] = t0
            deadline = time.monotonic() + 30
            while len((got := receiver.results())["arrivals"]) < count and time.monotonic() < deadline:
                time.sleep(0.1)
            arrivals = got["arrivals"]
            latencies = [(arrivals[e][0] - t0) * 1000 for e, t0 in sent.items() if e in arrivals]
            return {"events": count, "received": len(latencies), "bad_signatures": got["bad"],
                    "p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 0.99),
                    "achieved_rate": count / (time.perf_counter() - start)}
        finally:
            server.terminate()
            server.wait(timeout=10)
            receiver.stop()


def fanout_run(subscriptions: int) -> dict:
    """One critical event to N webhook subscriptions: time from the append request to the last delivery received."""
    with tempfile.TemporaryDirectory() as tmp:
        receiver = Receiver()
        server, base = start_server(Path(tmp))
        try:
            client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
            for i in range(subscriptions):
                client.post("/v1/subscriptions", json={"name": f"team {i}", "channel": {"kind": "webhook",
                                  "url": receiver.url}, "filter": {"event_types": ["Removed"]}}).raise_for_status()
            case_id = client.post("/v1/cases", json={"person": {"name": "Bench Person"}, "country": "KZ"}).json()["id"]
            t0 = time.monotonic()
            event_id = client.post(f"/v1/cases/{case_id}/events", json={
                "type": "Removed", "occurred_at": datetime.now(timezone.utc).isoformat(),
                "data": {"method": "deported", "destination": "UZ"}}).json()["event_id"]
            deadline = time.monotonic() + 60
            while len(arrivals := receiver.results()["arrivals"].get(event_id, [])) < subscriptions \
                    and time.monotonic() < deadline:
                time.sleep(0.02)
            return {"subscriptions": subscriptions, "received": len(arrivals),
                    "all_received_s": (max(arrivals) - t0) if len(arrivals) == subscriptions else None}
        finally:
            server.terminate()
            server.wait(timeout=10)
            receiver.stop()


def main(quick: bool = False) -> str:
    repeats = 1 if quick else 3
    latency = [latency_run(50, 2 if quick else 10) for _ in range(repeats)]
    fanout = [fanout_run(50 if quick else 1000) for _ in range(repeats)]
    med = lambda key, runs: statistics.median(r[key] for r in runs)  # noqa: E731
    times = [r["all_received_s"] for r in fanout if r["all_received_s"] is not None]
    lines = [
        "## 4. Delivery: event committed -> signed webhook received (`vigil serve`, SQLite, local receiver)",
        "",
        "| measure | ours (median of runs) | target | result |",
        "| --- | ---: | --- | --- |",
        f"| latency p50 at {latency[0]['events'] / (2 if quick else 10):.0f} events/s | {med('p50_ms', latency):.1f} ms "
        f"| < 50 ms | {'pass' if med('p50_ms', latency) < 50 else '**FAIL**'} |",
        f"| latency p99 | {med('p99_ms', latency):.1f} ms | < 250 ms | "
        f"{'pass' if med('p99_ms', latency) < 250 else '**FAIL**'} |",
        f"| one critical event to {fanout[0]['subscriptions']} webhook subscriptions: all received | "
        + (f"{statistics.median(times):.2f} s" if len(times) == len(fanout) else "not all received")
        + f" | < 3 s | {'pass' if len(times) == len(fanout) and statistics.median(times) < 3 else '**FAIL**'} |",
        "",
        "Runs: latency p50/p99 ms " + ", ".join(f"{r['p50_ms']:.1f}/{r['p99_ms']:.1f}" for r in latency)
        + "; received " + ", ".join(f"{r['received']}/{r['events']}" for r in latency)
        + "; bad signatures " + ", ".join(str(r["bad_signatures"]) for r in latency)
        + "; fan-out seconds " + ", ".join(f"{r['all_received_s']:.2f}" if r["all_received_s"] else "incomplete"
                                           for r in fanout) + ".",
        "Latency is measured from just before the append request is sent (so it includes the commit) to the moment "
        "the receiver has read the request; every latency-run request is verified with `standardwebhooks`.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(quick="--quick" in sys.argv))
