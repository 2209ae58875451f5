"""Vigil against Prometheus Alertmanager, side by side in one run: latency, stalls, fan-out, throughput, CPU, memory, SIGKILL.

Each system gets a fresh server per run and posts to the same kind of receiver (bench/receiver.py, its own process);
runs alternate between the two. Usage: .venv/bin/python -m bench.alerting [--quick]
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import httpx

from tests.pg_server import free_port

from .common import fresh_dir, median, percentile
from .delivery import Receiver, start_server
from .http_append import ADMIN_KEY, RawClient, Server, open_cases
from .run import _children, _tree_cpu_seconds

SPLIT = "vigil-worker"  # `vigil serve` with VIGIL_RUN_WORKER=false and a `vigil worker` process beside it
VIGILS = ("vigil", SPLIT)
COLUMNS = {"vigil": "Vigil", SPLIT: "Vigil, serve + worker process", "alertmanager": "Alertmanager"}
STALL_MS = 500  # "stalled about 1 s": a poll-driven delivery waits for the next poll
AM_NAMES = ("prometheus-alertmanager", "alertmanager")


@dataclass
class Sizes:
    repeats: int
    sequential: int
    fanout: int
    clients: int
    per_client: int
    killed_after: int
    kill_wait: float


FULL = Sizes(repeats=5, sequential=200, fanout=1000, clients=8, per_client=250, killed_after=100, kill_wait=90)
QUICK = Sizes(repeats=1, sequential=30, fanout=50, clients=8, per_client=25, killed_after=20, kill_wait=20)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the two systems
@dataclass
class Started(Server):
    """A freshly started server with its alerts prepared: POST requests[i] sends alert i; key(i, answer) is the
    key the receiver files that alert under; restart() starts it again on the same data."""
    requests: list[tuple[str, bytes]]
    key: Callable[[int, bytes], str]
    restart: Callable[[], "Started"]
    others: tuple[subprocess.Popen, ...] = ()  # processes besides the server's tree (a `vigil worker`)

    @property
    def procs(self) -> tuple[subprocess.Popen, ...]:
        return (self.proc, *self.others)

    def stop(self) -> None:
        for other in self.others:
            Server(other, self.base, "").stop()
        super().stop()


def start_worker(workdir: str, settings: dict[str, str]) -> subprocess.Popen:
    """`vigil worker` on workdir/vigil.db (the server's environment), once it says it runs."""
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{workdir}/vigil.db",
           "VIGIL_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", **settings}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "vigil"), "worker"], env=env, cwd=workdir,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if "delivery worker running" not in (worker.stdout.readline() if worker.stdout else ""):
        worker.kill()
        raise RuntimeError("vigil worker did not start")
    worker.stdout.close()
    return worker


def start_vigil(workdir: str, receiver: Receiver, subscriptions: int, alerts: int, split: bool = False) -> Started:
    """`vigil serve` (SQLite) with N webhook subscriptions to Detained and one case per alert; its worker runs
    in-process, or (split) in a `vigil worker` process of its own, started once the server is up."""
    from events.personal_data import new_master_key

    settings = {"VIGIL_MASTER_KEY": new_master_key(), "VIGIL_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY}
    if split:
        settings["VIGIL_RUN_WORKER"] = "false"

    def start() -> tuple[subprocess.Popen, str, tuple[subprocess.Popen, ...]]:
        proc, base = start_server(Path(workdir), settings)
        try:
            return proc, base, (start_worker(workdir, settings),) if split else ()
        except BaseException:
            Server(proc, base, "").stop()
            raise

    proc, base, others = start()
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60) as client:
            for i in range(subscriptions):
                sub = client.post("/v1/subscriptions", json={"name": f"team {i}", "channel": {
                    "kind": "webhook", "url": f"{receiver.url}/s{i}"}, "filter": {"event_types": ["Detained"]}})
                sub.raise_for_status()
                if subscriptions == 1:
                    receiver.verify_with(sub.json()["secret"])
        cases = open_cases(base, alerts, opened_at=None)
    except BaseException:
        Started(proc, base, "", [], event_id, lambda: None, others).stop()
        raise
    body = json.dumps({"type": "Detained", "occurred_at": datetime.now(timezone.utc).isoformat(),
                       "data": {"place": "Almaty"}}).encode()
    requests = [(f"/v1/cases/{case}/events", body) for case in cases]

    def restart() -> Started:
        again, again_base, again_others = start()
        return Started(again, again_base, "", requests, event_id, restart, again_others)

    return Started(proc, base, "", requests, event_id, restart, others)


def event_id(_: int, answer: bytes) -> str:
    return json.loads(answer)["event_id"]


def am_config(hook: str, receivers: int) -> str:
    """Alertmanager configuration (JSON, which is YAML): every alert its own group (group_by ['...']), sent at once
    (group_wait 0s), to `receivers` webhook receivers, each its own route with `continue: true`, at hook/r<i>."""
    route: dict = {"group_by": ["..."], "group_wait": "0s", "group_interval": "1s", "repeat_interval": "1h"}
    names = [f"r{i}" for i in range(receivers)]
    if receivers == 1:
        route["receiver"] = names[0]
        extra = []
    else:
        route["receiver"] = "unrouted"  # every alert matches the child routes, so this one never receives
        route["routes"] = [{"receiver": name, "continue": True} for name in names]
        extra = [{"name": "unrouted"}]
    return json.dumps({"route": route, "receivers": extra + [
        {"name": name, "webhook_configs": [{"url": f"{hook}/{name}", "send_resolved": False}]} for name in names]})


def start_am(binary: str, workdir: str, receiver: Receiver, receivers: int, alerts: int) -> Started:
    """Alertmanager on workdir (config and storage), clustering off, one alert per request to /api/v2/alerts."""
    config = Path(workdir) / "alertmanager.yml"
    config.write_text(am_config(receiver.url, receivers))
    now = datetime.now(timezone.utc).isoformat()
    tag = os.path.basename(workdir)
    requests = [("/api/v2/alerts", json.dumps([{"labels": {"alertname": "Detained", "alert_id": f"{tag}-{i}"},
                                                "annotations": {"summary": "Detained in Almaty"},
                                                "startsAt": now}]).encode()) for i in range(alerts)]

    def key(i: int, _: bytes) -> str:
        return f"{tag}-{i}"

    def start() -> Started:
        port = free_port()
        log_path = Path(workdir) / "alertmanager.log"
        with open(log_path, "a") as out:
            proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.path={workdir}/data",
                                     f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                                     "--log.level=warn"], stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{base}/-/ready", timeout=1).status_code == 200:
                    return Started(proc, base, str(log_path), requests, key, start)
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        proc.kill()
        raise RuntimeError(f"Alertmanager did not start: {log_path.read_text()[-2000:]}")

    return start()


def find_alertmanager() -> str | None:
    for name in AM_NAMES:
        if found := shutil.which(name):
            return found
    return None


def ensure_alertmanager() -> tuple[str | None, str]:
    """The Alertmanager binary, installed from Debian's `prometheus-alertmanager` if missing and we are root; else
    None and why not."""
    if found := find_alertmanager():
        return found, f"found at {found}"
    if os.geteuid() != 0:
        return None, "not installed, and the benchmark is not running as root, so it could not apt-get install it"
    if not shutil.which("apt-get"):
        return None, "not installed, and there is no apt-get on this machine to install it with"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "prometheus-alertmanager"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            return None, f"`{' '.join(command)}` failed ({done.returncode}): {done.stderr.strip()[-300:]}"
    if found := find_alertmanager():
        return found, f"installed by this benchmark with apt-get, at {found}"
    return None, "apt-get installed prometheus-alertmanager but no alertmanager binary is on PATH"


def am_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].strip() if (out.stdout or out.stderr) else "unknown"


# ---------------------------------------------------------------- measures
def wait_for(receiver: Receiver, done: Callable[[dict], bool], seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while not done(got := receiver.results()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return got


def latency_summary(latencies_ms: list[float], sent: int) -> dict:
    """p50/p90/p99 of the alerts that arrived, how many took longer than STALL_MS, and how many never arrived."""
    return {"p50": percentile(latencies_ms, 50), "p90": percentile(latencies_ms, 90),
            "p99": percentile(latencies_ms, 99), "stalled": sum(1 for v in latencies_ms if v > STALL_MS),
            "missing": sent - len(latencies_ms)}


def send_sequential(s: Started) -> dict[str, float]:
    """Each alert's request, one after the other; the key of each with the monotonic time just before sending."""
    sent: dict[str, float] = {}
    with httpx.Client(base_url=s.base, headers={"Authorization": f"Bearer {ADMIN_KEY}",
                                                "Content-Type": "application/json"}, timeout=30) as client:
        for i, (path, body) in enumerate(s.requests):
            t0 = time.monotonic()
            answer = client.post(path, content=body)
            answer.raise_for_status()
            sent[s.key(i, answer.content)] = t0
    return sent


def sequential(s: Started, receiver: Receiver) -> dict:
    sent = send_sequential(s)
    got = wait_for(receiver, lambda g: all(k in g["arrivals"] for k in sent), 30)
    arrivals = got["arrivals"]
    latencies = [(arrivals[k][0] - t0) * 1000 for k, t0 in sent.items() if k in arrivals]
    return {**latency_summary(latencies, len(sent)), "bad_signatures": got["bad"]}


def fanout(s: Started, receiver: Receiver, receivers: int) -> dict:
    """One alert to N receivers: seconds from sending it to the last receiver's copy (None if not all arrived)."""
    sent = send_sequential(s)
    key, t0 = next(iter(sent.items()))
    got = wait_for(receiver, lambda g: len(g["paths"].get(key, {})) >= receivers, 60)
    reached = len(got["paths"].get(key, {}))
    return {"seconds": max(got["arrivals"][key]) - t0 if reached == receivers else None, "reached": reached}


async def _blast(base: str, batches: list[list[tuple[str, bytes]]]) -> int:
    """Every batch on its own keep-alive connection, back to back (the raw client: httpx's CPU would cap the rate)."""
    errors = 0

    async def worker(batch: list[tuple[str, bytes]]) -> None:
        nonlocal errors
        async with RawClient(base) as client:
            for path, body in batch:
                if await client.request(RawClient.post_bytes(client.host, path, body)) >= 300:
                    errors += 1

    await asyncio.gather(*(worker(b) for b in batches))
    return errors


def tree_rss_mib(*pids: int) -> float:
    kib = 0
    for p in [q for pid in pids for q in (pid, *_children(pid))]:
        status = Path(f"/proc/{p}/status").read_text()
        kib += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024


def throughput(s: Started, receiver: Receiver, clients: int) -> dict:
    """All alerts from `clients` concurrent connections; first request sent -> last webhook received; the server's
    CPU over that span per delivered alert; its resident memory once idle."""
    n = len(s.requests)
    batches = [s.requests[i::clients] for i in range(clients)]
    pids = [p.pid for p in s.procs]
    cpu0, t0 = [_tree_cpu_seconds(p) for p in pids], time.monotonic()
    errors = asyncio.run(_blast(s.base, batches))
    got = wait_for(receiver, lambda g: len(g["arrivals"]) >= n, 120)
    each = [_tree_cpu_seconds(p) - c for p, c in zip(pids, cpu0)]  # the server's tree, then a `vigil worker`
    cpu = sum(each)
    delivered = len(got["arrivals"])
    last = max((t for times in got["arrivals"].values() for t in times), default=t0)
    time.sleep(1)  # idle before reading memory
    return {"rate": delivered / (last - t0) if delivered == n else None, "delivered": delivered, "errors": errors,
            "cpu_ms": cpu * 1000 / delivered if delivered else None, "rss_mib": tree_rss_mib(*pids),
            "cpu_ms_each": [round(c * 1000 / delivered, 3) if delivered else None for c in each]}


def kill_tree(proc: subprocess.Popen) -> None:
    for pid in [*_children(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def sigkill(s: Started, receiver: Receiver, wait: float) -> tuple[dict, Started]:
    """Alerts sent one by one, SIGKILL right after the last answer, restart on the same data, wait `wait` seconds
    (the whole time: a copy sent twice may come late), count arrivals per alert."""
    sent = send_sequential(s)
    for proc in s.procs:
        kill_tree(proc)
    killed = time.monotonic()
    again = s.restart()
    try:
        time.sleep(max(0.0, wait - (time.monotonic() - killed)))
        got = receiver.results()
    except BaseException:
        again.stop()
        raise
    arrivals, ids = got["arrivals"], got.get("ids", {})
    counts = [len(arrivals.get(k, [])) for k in sent]
    last = max((t for k in sent for t in arrivals.get(k, [])), default=killed)
    # A copy sent again after the crash must carry its first copy's webhook-id, so the receiver can drop it: a
    # duplicate under a new id is one the receiver cannot tell apart. Alertmanager sends no webhook-id.
    new_ids = sum(1 for k in sent if len(arrivals.get(k, [])) > 1 and len(set(ids.get(k, []))) > 1)
    return {"lost": counts.count(0), "duplicated": sum(1 for c in counts if c > 1), "new_ids": new_ids,
            "last_after_kill": last - killed}, again


# ---------------------------------------------------------------- the run
def run_side(side: str, am: str | None, sz: Sizes, measure: str) -> dict:
    """One fresh receiver, one fresh server of `side`, one measure."""
    receivers, alerts = {"sequential": (1, sz.sequential), "fanout": (sz.fanout, 1),
                         "throughput": (1, sz.clients * sz.per_client), "sigkill": (1, sz.killed_after)}[measure]
    with fresh_dir(f"alerting-{side}") as d:
        receiver = Receiver()
        started = None
        try:
            if side in VIGILS:
                started = start_vigil(d, receiver, receivers, alerts, split=side == SPLIT)
            else:
                started = start_am(am, d, receiver, receivers, alerts)
            if measure == "sequential":
                return sequential(started, receiver)
            if measure == "fanout":
                return fanout(started, receiver, receivers)
            if measure == "throughput":
                return throughput(started, receiver, sz.clients)
            result, started = sigkill(started, receiver, sz.kill_wait)
            return result
        except httpx.ConnectError as e:
            if (code := receiver.process.poll()) is not None:
                raise ReceiverDied(f"the receiver process ended during the run (exit code {code})") from e
            raise
        finally:
            if started is not None:
                started.stop()
            receiver.stop()


MEASURES = ("sequential", "fanout", "throughput", "sigkill")


class ReceiverDied(RuntimeError):
    """The receiver was gone when asked for its results: the run measured nothing (it is run again once)."""


def run_again_once(side: str, am: str | None, sz: Sizes, measure: str, retried: list[str]) -> dict:
    try:
        return run_side(side, am, sz, measure)
    except ReceiverDied as e:
        retried.append(f"{measure} {side}: {e}")
        log(f"  {measure} {side}: {e}; running it again")
        return run_side(side, am, sz, measure)


def measure_all(sz: Sizes, am: str | None, retried: list[str]) -> dict[str, dict[str, list[dict]]]:
    sides = [*VIGILS] + (["alertmanager"] if am else [])
    runs: dict[str, dict[str, list[dict]]] = {m: {s: [] for s in sides} for m in MEASURES}
    for measure in MEASURES:
        for i in range(sz.repeats):
            for side in sides[i % len(sides):] + sides[:i % len(sides)]:  # alternate who goes first
                runs[measure][side].append(result := run_again_once(side, am, sz, measure, retried))
                log(f"  {measure} run {i + 1} {side}: {result}")
    return runs


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _cell(results: list[dict], show: Callable[[dict], str], summary: str) -> tuple[str, str]:
    if not results:
        return "not run", ""
    return summary, "; ".join(show(r) for r in results)


def report(runs: dict[str, dict[str, list[dict]]], sz: Sizes, am_note: str, am_ver: str | None,
           load: str) -> str:
    def med(measure: str, side: str, key: str) -> float | None:
        values = [r[key] for r in runs[measure].get(side, []) if r[key] is not None]
        if len(values) < len(runs[measure].get(side, [])) or not values:
            return None
        return median(values)

    def runs_with(side: str) -> str:
        """A median hides a loss or a duplicate in a minority of runs: say in how many runs each happened."""
        kills = runs["sigkill"].get(side, [])
        said = (f"runs with a loss {sum(1 for r in kills if r['lost'])}, with a duplicate "
                f"{sum(1 for r in kills if r['duplicated'])}, of {len(kills)}")
        if side in VIGILS:  # Alertmanager sends no webhook-id to compare
            said += f"; duplicates under a new webhook-id: {sum(r.get('new_ids', 0) for r in kills)}"
        return said

    n = sz.clients * sz.per_client
    rows = [
        (f"request -> webhook received, p50 / p90 / p99 ms ({sz.sequential} sequential alerts)", "sequential",
         lambda side: " / ".join(_num(med("sequential", side, k), ".1f") for k in ("p50", "p90", "p99")),
         lambda r: f"{r['p50']:.1f}/{r['p90']:.1f}/{r['p99']:.1f}" + (f" ({r['missing']} missing)" if r["missing"]
                                                                   else "")),
        (f"alerts stalled about 1 s (latency > {STALL_MS} ms), of {sz.sequential}", "sequential",
         lambda side: _num(med("sequential", side, "stalled"), ".0f"), lambda r: str(r["stalled"])),
        (f"one alert -> {sz.fanout:,} receivers, all delivered (seconds)", "fanout",
         lambda side: _num(med("fanout", side, "seconds"), ".2f"),
         lambda r: _num(r["seconds"], ".2f") if r["seconds"] is not None else f"{r['reached']} reached"),
        (f"{n:,} alerts from {sz.clients} clients -> one receiver (alerts/s, first request -> last webhook)",
         "throughput", lambda side: _num(med("throughput", side, "rate"), ".0f"),
         lambda r: _num(r["rate"], ".0f") if r["rate"] else f"{r['delivered']} delivered"),
        ("CPU per delivered alert, server process tree (ms; append included)", "throughput",
         lambda side: _num(med("throughput", side, "cpu_ms"), ".2f"), lambda r: _num(r["cpu_ms"], ".2f")),
        ("resident memory of the server after the throughput run (idle), MiB", "throughput",
         lambda side: _num(med("throughput", side, "rss_mib"), ".0f"), lambda r: f"{r['rss_mib']:.0f}"),
        (f"SIGKILL right after {sz.killed_after} alerts: lost / duplicated (last arrival, s after the kill)",
         "sigkill", lambda side: f"{_num(med('sigkill', side, 'lost'), '.0f')} / "
                                 f"{_num(med('sigkill', side, 'duplicated'), '.0f')} "
                                 f"({_num(med('sigkill', side, 'last_after_kill'), '+.1f')}); " + runs_with(side),
         lambda r: f"{r['lost']}/{r['duplicated']} ({r['last_after_kill']:+.1f})"),
    ]
    sides = list(COLUMNS)
    lines = ["## 6. Alerting side by side: Vigil and Prometheus Alertmanager", "",
             "| measure | " + " | ".join(f"{COLUMNS[s]} (median)" for s in sides) + " | "
             + " | ".join(f"{COLUMNS[s]} runs" for s in sides) + " |",
             "| --- | " + "---: | " * len(sides) + "--- | " * len(sides)]
    lines[-1] = lines[-1].rstrip()
    for label, measure, summary, show in rows:
        cells = [_cell(runs[measure].get(side, []), show, summary(side)) for side in sides]
        lines.append(f"| {label} | " + " | ".join(c[0] for c in cells) + " | " + " | ".join(c[1] for c in cells)
                     + " |")
    bad = sum(r["bad_signatures"] for side in VIGILS for r in runs["sequential"].get(side, []))
    errors = {s: sum(r["errors"] for r in rs) for s, rs in runs["throughput"].items()}
    lines += [
        "",
        f"- Alertmanager: {am_note}" + (f"; `{am_ver}`." if am_ver else ". Its column is empty: it did not run."),
        f"- Method: this machine, {sz.repeats} run(s) per measure and side, the sides rotating (who "
        "goes first changes every run), a fresh server and a fresh receiver per run; medians, runs in order. The "
        "receiver (bench/receiver.py, uvicorn) runs in its own process and timestamps each alert on arrival with "
        f"the system-wide monotonic clock; latency runs from just before the request is sent. Load average "
        f"(1 min) {load}: the machine may be shared.",
        "- Vigil: `vigil serve`, SQLite, worker in-process (VIGIL_RUN_WORKER=true), default lease and poll; "
        "'serve + worker process': `vigil serve` with VIGIL_RUN_WORKER=false and one `vigil worker` on the same "
        "file, woken after each commit that leaves deliveries by a datagram (notifications/wake.py), CPU and memory "
        "of both processes summed; an alert "
        "is an appended `Detained` event (one case per alert, cases and webhook subscriptions created before "
        "timing) through POST /v1/cases/{id}/events; every sequential-run webhook is checked with "
        f"`standardwebhooks` ({bad} bad signatures). Fan-out: {sz.fanout:,} webhook subscriptions, each its own "
        "URL path.",
        "- Alertmanager: one alert per POST /api/v2/alerts, each with a unique `alert_id` label; `group_by: ['...']` "
        "(every alert its own group), `group_wait: 0s`, `group_interval: 1s`, `send_resolved: false`, clustering "
        f"off (`--cluster.listen-address=`). Fan-out: {sz.fanout:,} receivers, each its own child route with "
        "`continue: true` and its own webhook URL path. Alertmanager keeps alerts in memory only: a Prometheus "
        "server re-sends firing alerts every evaluation interval, which would make up for a restart; here, as for "
        "Vigil, each alert is sent once.",
        f"- Throughput uses a minimal raw HTTP/1.1 client ({sz.clients} keep-alive connections); requests answered "
        f"with an error: " + ", ".join(f"{s} {e}" for s, e in errors.items()) + ". CPU is utime+stime from "
        "/proc/<pid>/stat of the server and its children over that span (Vigil: append, outbox and delivery "
        "together); memory is VmRSS one second after the last webhook.",
        f"- SIGKILL: {sz.killed_after} alerts sent one by one, SIGKILL to the server and its children right after "
        f"the last answer, restarted at once on the same data directory, then {sz.kill_wait:.0f} s of waiting "
        "(the whole time, so a late second copy is counted; Vigil's delivery lease is 60 s"
        + (", longer than this wait: a smoke run would miss a copy resent after it" if sz.kill_wait < 60 else "")
        + ") before counting each alert's copies: 0 = lost, more than 1 = duplicated; the time in brackets is the "
        "last arrival relative to the kill (negative: all had arrived before it). For Vigil, the receiver also "
        "compares each duplicate's `webhook-id` header with its first copy's: one sent again must carry the same "
        "id, so the receiver can drop it.",
    ]
    return "\n".join(lines)


def main(quick: bool = False) -> str:
    sz = QUICK if quick else FULL
    am, note = ensure_alertmanager()
    log(f"Alertmanager: {note}")
    before = os.getloadavg()[0]
    retried: list[str] = []
    runs = measure_all(sz, am, retried)
    load = f"{before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    text = report(runs, sz, note, am_version(am) if am else None, load)
    if retried:
        text += "\n- Runs made again because the receiver process vanished mid-run: " + "; ".join(retried) + "."
    return text


if __name__ == "__main__":
    print(main(quick="--quick" in sys.argv))
