"""A throwaway but durable PostgreSQL server for the benchmarks (fsync on, synchronous_commit default)."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import psycopg

# Settings passed on the command line. Everything that bears on durability is left at PostgreSQL's
# defaults (fsync=on, synchronous_commit=on, full_page_writes=on, wal_sync_method=platform default);
# we state them explicitly so the run is self-describing and a changed default cannot creep in.
DURABILITY = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def _bin_dir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DurablePostgres:
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

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def sqlalchemy_url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def checkpoint(self) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute("CHECKPOINT")

    def settings(self) -> dict[str, str]:
        names = ["server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method",
                 "shared_buffers", "wal_level"]
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}

    def stop(self) -> None:
        try:
            self._run(f"{self.bin_dir}/pg_ctl", "-D", self.datadir, "-m", "fast", "stop")
        except subprocess.CalledProcessError:
            pass
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_durable_postgres() -> DurablePostgres:
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    as_root = os.geteuid() == 0
    root = tempfile.mkdtemp(prefix="vigil-bench-pg-", dir="/tmp")
    datadir = os.path.join(root, "data")
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    server = DurablePostgres(port, root, datadir, bin_dir, as_root)
    server._run(f"{bin_dir}/initdb", "-D", datadir, "-U", "postgres", "--auth=trust", "-E", "UTF8")
    durability = " ".join(f"-c {k}={v}" for k, v in DURABILITY.items())
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=100 {durability}"
    server._run(f"{bin_dir}/pg_ctl", "-D", datadir, "-o", options, "-l", os.path.join(root, "log"), "-w", "start")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(server.dsn(), connect_timeout=2):
                return server
        except psycopg.OperationalError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("PostgreSQL did not start")
