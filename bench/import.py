"""Bulk import: the whole `vigil import` command (a subprocess, wall clock) on SQLite and PostgreSQL, beside the
per-event path an API append takes (CaseService.append, in process: the HTTP cost comes on top, see section 3).

    .venv/bin/python -m bench.import [--quick] [--cases N] [--repeats N]

Wall clock is what the target is about; the command's CPU time (its own and its children's, from
resource.getrusage) is printed beside it, because on a shared machine the wall figures move with the neighbours.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .common import fresh_dir, median

VIGIL = str(Path(sys.executable).with_name("vigil"))
FULL = {"cases": 4000, "per_case": 50, "repeats": 3, "api_events": 3000}
QUICK = {"cases": 200, "per_case": 20, "repeats": 1, "api_events": 300}
TARGET = 50_000  # events/s on SQLite (quality.md)
NOW = datetime.now(timezone.utc)
KINDS = [("Detained", {"place": "Lyon"}), ("AsylumClaimLodged", {"authority": "OFPRA"}),
         ("ExtraditionRequested", {"requesting_state": "UZ", "charges": ["membership"]}), ("Released", {}),
         ("AppealFiled", {"court": "CA Lyon"}), ("InterimMeasureRequested", {"body": "ECtHR"}),
         ("ContactEstablished", {"with_whom": "lawyer"}), ("Detained", {"place": "Nice"})]


def history_file(path: Path, cases: int, per_case: int) -> int:
    """`cases` cases of `per_case` events each, years of history, a hearing ahead in every tenth case."""
    with path.open("w") as out:
        for c in range(cases):
            ref = f"B-{c:06d}"
            start = NOW - timedelta(days=2000 - c % 500)
            out.write(json.dumps({"case": {"ref": ref, "person": {"name": f"Person {c}", "aliases": [f"P{c}"]},
                                           "country": "FR", "origin_country": "UZ", "tags": ["bench"],
                                           "occurred_at": start.isoformat()}}) + "\n")
            for e in range(per_case):
                at = start + timedelta(days=e * 30, hours=c % 24)
                if e == per_case - 1 and c % 10 == 0:
                    kind, data = "HearingScheduled", {"court": "CA Lyon", "kind": "extradition",
                                                      "at": (NOW + timedelta(days=30)).isoformat()}
                    at = NOW - timedelta(days=1)
                else:
                    kind, data = KINDS[(c + e) % len(KINDS)]
                out.write(json.dumps({"event": {"case_ref": ref, "type": kind, "occurred_at": at.isoformat(),
                                                "data": data}}) + "\n")
    return cases * per_case


def _env(url: str, workdir: str) -> dict[str, str]:
    return {**os.environ, "VIGIL_DATABASE_URL": url, "VIGIL_MASTER_KEY_FILE": f"{workdir}/master.key",
            "VIGIL_KEYRING_FILE": f"{workdir}/keyring"}


def timed_import(url: str, workdir: str, source: Path, cpu: list[float] | None = None) -> float:
    """Seconds of `vigil import` on a fresh, migrated database (schema and key made before the clock starts); its
    CPU seconds are appended to `cpu`."""
    env = _env(url, workdir)
    from events.personal_data import create_master_key_file
    create_master_key_file(f"{workdir}/master.key")
    subprocess.run([VIGIL, "db", "upgrade"], env=env, check=True, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([VIGIL, "import", str(source), "--team", "bench"], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != 0 or "bad lines: 0" not in done.stdout:
        raise RuntimeError(f"vigil import failed: {done.stdout[-500:]} {done.stderr[-2000:]}")
    return elapsed


def api_path(url: str, workdir: str, events: int) -> float:
    """Events/s through CaseService.append one by one (what POST /v1/cases/{id}/events calls), 50 per case."""
    from service.access import Principal
    from service.bootstrap import container
    from service.schemas import CaseIn, EventIn
    from service.settings import Settings

    env = _env(url, workdir)
    from events.personal_data import create_master_key_file
    create_master_key_file(env["VIGIL_MASTER_KEY_FILE"])
    os.environ["VIGIL_KEYRING_FILE"] = env["VIGIL_KEYRING_FILE"]
    box = container(Settings(_env_file=None, database_url=url, master_key_file=Path(env["VIGIL_MASTER_KEY_FILE"]),
                             run_worker=False), create=True)
    who = Principal("bench", "bench", "editor", "bench")
    try:
        case_ids = [box.cases.open_case(who, CaseIn(person={"name": f"Person {c}"}, country="FR")).stream_id
                    for c in range(max(1, events // 50))]
        bodies = [EventIn(type=KINDS[i % len(KINDS)][0], data=KINDS[i % len(KINDS)][1],
                          occurred_at=NOW - timedelta(days=1000 - i % 900)) for i in range(events)]
        started = time.perf_counter()
        for i, body in enumerate(bodies):
            box.cases.append(who, case_ids[i % len(case_ids)], body)
        return events / (time.perf_counter() - started)
    finally:
        box.close()


def main(quick: bool = False, cases: int | None = None, repeats: int | None = None) -> str:
    sz = dict(QUICK if quick else FULL)
    sz.update({k: v for k, v in (("cases", cases), ("repeats", repeats)) if v})
    rows: list[str] = []
    with fresh_dir("import-src") as src:
        source = Path(src) / "history.ndjson"
        n = history_file(source, sz["cases"], sz["per_case"])
        size_mb = source.stat().st_size / 1e6
        sqlite_runs, api_runs, sqlite_cpu, pg_cpu = [], [], [], []
        for _ in range(sz["repeats"]):
            with fresh_dir("import-sqlite") as work:
                sqlite_runs.append(n / timed_import(f"sqlite:///{work}/vigil.db", work, source, sqlite_cpu))
            with fresh_dir("import-api") as work:
                api_runs.append(api_path(f"sqlite:///{work}/vigil.db", work, sz["api_events"]))
        pg_runs: list[float] = []
        pg_note = ""
        try:
            from .pg import start_durable_postgres
            server = start_durable_postgres()
            try:
                for r in range(sz["repeats"]):
                    name = f"import_{r}"
                    server.create_database(name)
                    with fresh_dir("import-pg") as work:
                        pg_runs.append(n / timed_import(server.sqlalchemy_url(name), work, source, pg_cpu))
                    server.drop_database(name)
            finally:
                server.stop()
        except Exception as exc:  # noqa: BLE001 - reported in the table
            pg_note = f" (PostgreSQL failed: {type(exc).__name__}: {str(exc)[:200]})"
    ok = median(sqlite_runs) >= TARGET
    runs = lambda values: ", ".join(f"{v:,.0f}" for v in values)  # noqa: E731
    rows = [
        "## 8. Bulk import: the whole `vigil import` command (subprocess, wall clock)",
        "",
        f"{n:,} events across {sz['cases']:,} cases (+ one CaseOpened each), NDJSON, {size_mb:.1f} MB; each run on a "
        "fresh migrated database; the time includes Python's start-up, reading and validating every line as the API "
        "does, sealing each person, and every commit.",
        "",
        "The CPU column is the command's own CPU time (user + system), events per CPU second: the wall figures "
        "depend on what else the machine runs.",
        "",
        "| measure | ours | target | pass | runs | per CPU second |",
        "| --- | ---: | ---: | :---: | --- | ---: |",
        f"| `vigil import`, SQLite | {median(sqlite_runs):,.0f} events/s | {TARGET:,} | {'yes' if ok else 'NO'} | "
        f"{runs(sqlite_runs)} | {n / median(sqlite_cpu):,.0f} events/s |",
        f"| `vigil import`, PostgreSQL | {median(pg_runs):,.0f} events/s | info | | {runs(pg_runs)}{pg_note} | {n / median(pg_cpu) if pg_cpu else 0:,.0f} events/s |",
        f"| (info) the per-event path: CaseService.append one by one, SQLite, in process (no HTTP) | "
        f"{median(api_runs):,.0f} events/s | info | | {runs(api_runs)} | |",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    def _option(name: str) -> int | None:
        return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else None

    print(main(quick="--quick" in sys.argv, cases=_option("--cases"), repeats=_option("--repeats")))
