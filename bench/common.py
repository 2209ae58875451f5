"""Helpers shared by the benchmarks: temp dirs, medians, percentiles, machine facts."""
from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

BENCH_TMP = "/tmp"


@contextmanager
def fresh_dir(prefix: str) -> Iterator[str]:
    """A new empty directory under /tmp (the same place for ours and the peer), removed afterwards."""
    path = tempfile.mkdtemp(prefix=f"vigil-bench-{prefix}-", dir=BENCH_TMP)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


@dataclass
class Row:
    """One line of a results table."""
    measure: str
    ours: float | None
    peer: float | None
    unit: str
    target: str
    passed: bool | None
    runs: list[float] = field(default_factory=list)
    peer_runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.peer:
            return None
        return self.ours / self.peer


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine_facts(pg_version: str | None) -> dict[str, str]:
    cpuinfo = _read("/proc/cpuinfo")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown")
    meminfo = _read("/proc/meminfo")
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    try:
        disk = subprocess.run(["df", "-h", "--output=source,fstype", BENCH_TMP], capture_output=True, text=True,
                              check=False).stdout.strip().splitlines()[-1]
    except (OSError, IndexError):
        disk = "unknown"
    from importlib.metadata import version

    def v(name: str) -> str:
        try:
            return version(name)
        except Exception:  # noqa: BLE001
            return "not installed"

    return {
        "nproc": str(os.cpu_count()),
        "CPU": model,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "/tmp filesystem": " ".join(disk.split()),
        "Python": sys.version.split()[0],
        "SQLite (sqlite3 module)": sqlite3.sqlite_version,
        "PostgreSQL server": pg_version or "not available",
        "eventsourcing": v("eventsourcing"),
        "SQLAlchemy": v("sqlalchemy"),
        "psycopg": v("psycopg"),
        "uvicorn": v("uvicorn"),
        "httpx": v("httpx"),
    }


EXTRA_DEPS = os.environ.get("VIGIL_BENCH_EXTRA_PATH", "/tmp/vigil-bench-deps")


def ensure_psycopg_pool() -> str:
    """eventsourcing's PostgreSQL recorders need psycopg_pool (the `eventsourcing[postgres]` extra), which the
    project's `bench` extra does not pull in. If the venv lacks it, install it with pip into a directory
    outside the repository (VIGIL_BENCH_EXTRA_PATH, default /tmp/vigil-bench-deps) and put that on sys.path."""
    try:
        import psycopg_pool  # noqa: F401
        return "psycopg_pool from the venv"
    except ImportError:
        pass
    if EXTRA_DEPS not in sys.path:
        sys.path.append(EXTRA_DEPS)
    try:
        import psycopg_pool  # noqa: F401,F811
        return f"psycopg_pool from {EXTRA_DEPS} (not in the venv)"
    except ImportError:
        pass
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", EXTRA_DEPS,
                    "psycopg-pool"], check=True)
    import importlib
    importlib.invalidate_caches()
    import psycopg_pool  # noqa: F401,F811
    return f"psycopg_pool installed by the benchmark into {EXTRA_DEPS} (not in the venv)"
