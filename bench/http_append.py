"""HTTP appends through the API: `vigil serve` (uvicorn, SQLite file) in its own process, 8 concurrent clients.

* saturated: 8 asyncio tasks, each with its own httpx.AsyncClient (one keep-alive connection) and its own case,
  POST /v1/cases/{id}/events back to back; events/s and per-request latency p50/p99. The same again with a
  minimal raw HTTP/1.1 client (RawClient), because httpx's own CPU cost caps what 2 cores can offer.
* paced: open loop at a fixed rate (e.g. 300 events/s) spread over the same 8 clients; latency is measured from
  each request's *scheduled* send time, so a backlog counts against it (no coordinated omission).
The client runs in the benchmark process, on the same 2-core machine as the server.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.pg_server import free_port

REPO = Path(__file__).resolve().parent.parent
ADMIN_KEY = "vgl_bench_admin_key_0123456789abcdefghijklmnopqrstuv"
EVENT = {"type": "NoteAdded", "occurred_at": "2024-01-01T00:00:00Z", "data": {"text": "Lawyer visited today."}}


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    log_path: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(workdir: str, workers: int = 1) -> Server:
    """`.venv/bin/vigil serve --workers N` on a fresh SQLite file in workdir (also its cwd, so no stray .env is
    read)."""
    from events.personal_data import new_master_key

    port = free_port()
    vigil = Path(sys.executable).parent / "vigil"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update({"VIGIL_DATABASE_URL": f"sqlite:///{workdir}/vigil.db", "VIGIL_MASTER_KEY": new_master_key(),
                "VIGIL_RATE_LIMIT_PER_MINUTE": "0", "VIGIL_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY, "VIGIL_RUN_WORKER": "false"})
    log_path = os.path.join(workdir, "server.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([str(vigil), "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers)], cwd=workdir,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vigil serve exited: {Path(log_path).read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return Server(proc, base, log_path)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("vigil serve did not become ready")


def open_cases(base: str, n: int, opened_at: str | None = EVENT["occurred_at"]) -> list[str]:
    """Open n cases. By default each case is opened at the same `occurred_at` as the events appended to it, so
    every append is in time order; with opened_at=None the case is opened "now" and every event dated 2024 is
    a late report (see the module docstring)."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    body = {"person": {"name": "Bench Person"}, "country": "KZ"}
    if opened_at is not None:
        body["occurred_at"] = opened_at
    ids = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(n):
            r = client.post("/v1/cases", json=body)
            r.raise_for_status()
            ids.append(r.json()["id"])
    return ids


def _client(base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30,
                             limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))


async def _saturated(base: str, case_ids: list[str], per_client: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0

    async def worker(case_id: str) -> None:
        nonlocal errors
        async with _client(base) as client:
            await client.post(f"/v1/cases/{case_id}/events", json=EVENT)  # connect, untimed
            await ready.wait()
            for _ in range(per_client):
                sent = time.perf_counter()
                r = await client.post(f"/v1/cases/{case_id}/events", json=EVENT)
                latencies.append(time.perf_counter() - sent)
                if r.status_code != 201:
                    errors += 1

    ready = asyncio.Event()
    tasks = [asyncio.create_task(worker(c)) for c in case_ids]
    await asyncio.sleep(0.3)  # let every client connect
    started = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, errors


def saturated(base: str, case_ids: list[str], per_client: int, raw: bool = False
              ) -> tuple[float, list[float], int]:
    if raw:
        return asyncio.run(_saturated_raw(base, case_ids, per_client))
    return asyncio.run(_saturated(base, case_ids, per_client))


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: pre-encoded requests, Content-Length responses.

    httpx costs about 2 ms of client CPU per request on this machine, so 8 httpx clients cannot offer 1,000
    requests/s on 2 cores whatever the server does; this client costs a few tens of microseconds, so it shows
    what the server itself can take."""

    def __init__(self, base: str):
        host_port = base.split("://", 1)[1]
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @staticmethod
    def post_bytes(host: str, path: str, body: bytes) -> bytes:
        return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {ADMIN_KEY}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

    @staticmethod
    def get_bytes(host: str, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\r\n".encode()

    async def __aenter__(self) -> "RawClient":
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def request(self, raw_request: bytes) -> int:
        self.writer.write(raw_request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status


async def _saturated_raw(base: str, case_ids: list[str], per_client: int) -> tuple[float, list[float], int]:
    import json

    latencies: list[float] = []
    errors = 0
    body = json.dumps(EVENT).encode()

    async def worker(case_id: str) -> None:
        nonlocal errors
        async with RawClient(base) as client:
            request = RawClient.post_bytes(client.host, f"/v1/cases/{case_id}/events", body)
            await client.request(request)  # connect + first request, untimed
            await ready.wait()
            for _ in range(per_client):
                sent = time.perf_counter()
                status = await client.request(request)
                latencies.append(time.perf_counter() - sent)
                if status != 201:
                    errors += 1

    ready = asyncio.Event()
    tasks = [asyncio.create_task(worker(c)) for c in case_ids]
    await asyncio.sleep(0.3)
    started = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    return len(latencies) / (time.perf_counter() - started), latencies, errors


async def _noop_ceiling(base: str, clients: int, per_client: int, raw: bool) -> tuple[float, float]:
    """GET /healthz (no database) back to back: the most this harness + server pair can do, and the client's
    CPU seconds per request."""
    async def worker() -> None:
        if raw:
            async with RawClient(base) as client:
                request = RawClient.get_bytes(client.host, "/healthz")
                for _ in range(per_client):
                    await client.request(request)
        else:
            async with _client(base) as client:
                for _ in range(per_client):
                    await client.get("/healthz")

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(clients)])
    n = clients * per_client
    return n / (time.perf_counter() - started), (time.process_time() - cpu) / n


def noop_ceiling(base: str, clients: int, per_client: int, raw: bool) -> tuple[float, float]:
    return asyncio.run(_noop_ceiling(base, clients, per_client, raw))


async def _paced(base: str, case_ids: list[str], rate: float, seconds: float
                 ) -> tuple[float, list[float], list[float], int]:
    total = int(rate * seconds)
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    from_schedule: list[float] = []
    service: list[float] = []
    errors = 0

    async def worker(case_id: str) -> None:
        nonlocal errors
        async with _client(base) as client:
            await client.post(f"/v1/cases/{case_id}/events", json=EVENT)
            while (due := await queue.get()) is not None:
                sent = time.perf_counter()
                r = await client.post(f"/v1/cases/{case_id}/events", json=EVENT)
                done = time.perf_counter()
                from_schedule.append(done - due)
                service.append(done - sent)
                if r.status_code != 201:
                    errors += 1

    tasks = [asyncio.create_task(worker(c)) for c in case_ids]
    await asyncio.sleep(0.3)
    start = time.perf_counter() + 0.01
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(due)
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)
    achieved = len(from_schedule) / (time.perf_counter() - start)
    return achieved, from_schedule, service, errors


def paced(base: str, case_ids: list[str], rate: float, seconds: float):
    return asyncio.run(_paced(base, case_ids, rate, seconds))
