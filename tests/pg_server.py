"""Starts a throwaway PostgreSQL server (as the postgres user when run as root): fast for tests, durable for bench."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

# Tests need a real server, not durability. The benchmarks ask for PostgreSQL's durable defaults, stated
# explicitly so a run is self-describing and a changed default cannot creep in.
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def _bin_dir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    return candidates[0] if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    base_url: str  # postgresql+psycopg://postgres@127.0.0.1:PORT/
    port: int
    root: str
    datadir: str
    bin_dir: str
    as_root: bool

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, check=True, capture_output=True, text=True)

    def stop(self, mode: str = "immediate") -> None:
        try:
            self._run(f"{self.bin_dir}/pg_ctl", "-D", self.datadir, "-m", mode, "stop")
        except subprocess.CalledProcessError:
            pass
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"{self.base_url}{database}"


def start_postgres(durable: bool = False) -> PostgresServer:
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    as_root = os.geteuid() == 0
    root = tempfile.mkdtemp(prefix="vigil-bench-pg-" if durable else "vigil-pg-", dir="/tmp")
    datadir = os.path.join(root, "data")
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    server = PostgresServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/", port, root, datadir, bin_dir,
                            as_root)
    server._run(f"{bin_dir}/initdb", "-D", datadir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                *([] if durable else ["--no-sync"]))
    settings = " ".join(f"-c {k}={v}" for k, v in (DURABLE if durable else FAST).items())
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200 {settings}"
    server._run(f"{bin_dir}/pg_ctl", "-D", datadir, "-o", options, "-l", os.path.join(root, "log"), "-w", "start")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("PostgreSQL did not start")
