"""Where the time goes: short profiled runs of the measures that miss their targets; writes bench/profile.md.

    .venv/bin/python -m bench.profile

* store append (SQLite and PostgreSQL) and rebuild: cProfile, in this process.
* HTTP: py-spy sampling the `vigil serve` process under lean clients (bench/http_append.RawClient, so the
  client's own cost does not cap the rate), only the thread holding the GIL (`--gil`): where the Python CPU goes,
  whichever thread spends it (the endpoint runs in a worker thread). A thread waiting for the GIL is not
  counted, so a blocking call that hands the GIL over shows as cheap. If py-spy is available (installed with pip
  into /tmp/vigil-bench-tools when missing; it is no project dependency). Without py-spy, bench/profile_http.py
  profiles the same path with cProfile in every thread of an in-process server.
Profilers slow the code down; read the percentages, not the absolute times.
"""
from __future__ import annotations

import collections
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import ensure_psycopg_pool, fresh_dir

HERE = Path(__file__).resolve().parent
TOOLS = "/tmp/vigil-bench-tools"
SKIP = re.compile(r"<frozen |importlib|<built-in method builtins.exec>|^bench/|contextlib|"
                  r"_GeneratorContextManager|<built-in method builtins.next>")


def _short(func: tuple[str, int, str]) -> str:
    path, line, name = func
    path = re.sub(r"^/tmp/vigil-bench-src-[^/]+/", "", path)
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})" if line else name


def cprofile_table(profile: cProfile.Profile, root_name: str, top: int = 30) -> str:
    stats = pstats.Stats(profile).stats  # func -> (cc, nc, tt, ct, callers)
    root = max((v[3] for k, v in stats.items() if k[2] == root_name), default=None)
    total = root or sum(v[2] for v in stats.values())
    by_cum = sorted(stats.items(), key=lambda kv: kv[1][3], reverse=True)
    lines = [f"Total {total:.2f} s in `{root_name}` (under the profiler).", "",
             "| cumulative % | self % | calls | function |", "| ---: | ---: | ---: | --- |"]
    shown = 0
    for func, (cc, nc, tt, ct, _) in by_cum:
        name = _short(func)
        if SKIP.search(name) or ct / total > 1.001:
            continue
        lines.append(f"| {100 * ct / total:.1f} | {100 * tt / total:.1f} | {nc} | `{name}` |")
        shown += 1
        if shown >= top:
            break
    lines += ["", "Largest self time:", "", "| self % | calls | function |", "| ---: | ---: | --- |"]
    for func, (cc, nc, tt, ct, _) in sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:15]:
        lines.append(f"| {100 * tt / total:.1f} | {nc} | `{_short(func)}` |")
    return "\n".join(lines)


def profile_store_sqlite() -> str:
    from . import store_append as sa

    outbox = sa.outbox_available()
    sa.sqlite_vigil(20, 5, {}, outbox=outbox)  # imports and statement caches warm
    profile = cProfile.Profile()
    profile.enable()
    rate = sa.sqlite_vigil(200, 10, {}, outbox=outbox)
    profile.disable()
    return (f"{rate:.0f} events/s under the profiler; hooks: CaseProjections"
            f"{' + Outbox' if sa.outbox_available() else ''}.\n\n" + cprofile_table(profile, "append"))


def profile_store_pg() -> str:
    from . import store_append as sa
    from .pg import start_durable_postgres

    ensure_psycopg_pool()
    server = start_durable_postgres()
    try:
        outbox = sa.outbox_available()
        sa.pg_vigil(server, 20, 5, "warm", outbox=outbox)
        profile = cProfile.Profile()
        profile.enable()
        rate = sa.pg_vigil(server, 200, 10, "profiled", outbox=outbox)
        profile.disable()
    finally:
        server.stop()
    return (f"{rate:.0f} events/s under the profiler; hooks: CaseProjections"
            f"{' + Outbox' if sa.outbox_available() else ''}.\n\n" + cprofile_table(profile, "append"))


def profile_rebuild() -> str:
    from . import rebuild as rb

    with fresh_dir("profile-rebuild") as d:
        engine, _ = rb.load(f"sqlite:///{d}/bench.db", 300, 100)
        rb.rebuild_once(engine, 30000)
        profile = cProfile.Profile()
        profile.enable()
        rate = rb.rebuild_once(engine, 30000)
        profile.disable()
        engine.dispose()
    return f"{rate:.0f} events/s under the profiler (30,000 events).\n\n" + cprofile_table(profile, "rebuild")


def _py_spy() -> str | None:
    found = shutil.which("py-spy") or (f"{TOOLS}/bin/py-spy" if os.path.exists(f"{TOOLS}/bin/py-spy") else None)
    if found:
        return found
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", TOOLS, "py-spy"], check=True)
    except subprocess.CalledProcessError:
        return None
    return f"{TOOLS}/bin/py-spy" if os.path.exists(f"{TOOLS}/bin/py-spy") else None


IDLE_LEAVES = ("Condition.wait", "EpollSelector.select", "Queue.get")


def spy_table(raw: str, top: int = 30) -> str:
    """Inclusive % per function over the server's samples, idle threads (waiting for work) left out."""
    incl: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in Path(raw).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [re.sub(r":\d+\)", ")", f) for f in stack.split(";")[1:]]
        if frames and frames[-1].split(" ")[0] in IDLE_LEAVES:
            idle += n
            continue
        total += n
        for f in set(frames):
            incl[f] += n
        leaf[frames[-1] if frames else "?"] += n
    lines = [f"{total} busy samples ({idle} idle samples of threads waiting for work left out).", "",
             "| inclusive % | function |", "| ---: | --- |"]
    noise = re.compile(r"threading\.py|typer|click|cli\.py|\(vigil\)|uvicorn/main|uvicorn/_compat|"
                       r"asyncio/runners|_bootstrap|WorkerThread.run")
    shown = 0
    for f, n in incl.most_common():
        if noise.search(f):
            continue
        lines.append(f"| {100 * n / total:.1f} | `{f}` |")
        shown += 1
        if shown >= top:
            break
    lines += ["", "Leaf frames (where the samples stand):", "", "| % | function |", "| ---: | --- |"]
    for f, n in leaf.most_common(12):
        lines.append(f"| {100 * n / total:.1f} | `{f}` |")
    return "\n".join(lines)


def profile_http() -> str:
    from . import http_append as ha

    spy = _py_spy()
    if spy is None:
        return "py-spy not available: skipped."
    out = []
    with fresh_dir("profile-http") as d:
        server = ha.start_server(d)
        try:
            ids = ha.open_cases(server.base, 8)
            ha.saturated(server.base, ids, 20, raw=True)
            for clients, per_client in ((1, 1500), (8, 500)):
                raw = f"{d}/spy-{clients}.raw"
                proc = subprocess.Popen([spy, "record", "--pid", str(server.proc.pid), "--rate", "250",
                                         "--duration", "6", "--format", "raw", "--output", raw, "--threads",
                                         "--gil", "--nonblocking"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)
                rate, _, _ = ha.saturated(server.base, ids[:clients], per_client, raw=True)
                proc.wait(30)
                out.append(f"### {clients} client(s), {rate:.0f} events/s under the profiler\n\n" + spy_table(raw))
        finally:
            server.stop()
    return "\n\n".join(out)


def main() -> int:
    from .run import code_fingerprint, snapshot_source

    fingerprint = code_fingerprint()
    snapshot = snapshot_source()
    parts = ["# Where the time goes (profiles)", "",
             f"Written by `.venv/bin/python -m bench.profile` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
             f", code fingerprint `{fingerprint}` (a snapshot, as in bench/run.py). Short runs under a profiler: "
             "read the shares, not the absolute rates. Import machinery and context-manager plumbing are left out "
             "of the cumulative tables.", ""]
    for title, fn in (("Store append, SQLite (cProfile, 2,000 appends, 1 event each)", profile_store_sqlite),
                      ("Store append, PostgreSQL (cProfile, 2,000 appends, 1 event each)", profile_store_pg),
                      ("Projection rebuild (cProfile, 30,000 events)", profile_rebuild),
                      ("HTTP append (py-spy on the vigil serve process)", profile_http)):
        print(f"profiling: {title}", flush=True)
        try:
            body = fn()
        except Exception as exc:  # noqa: BLE001
            body = f"failed: {exc!r}"
        parts += [f"## {title}", "", body, ""]
    (HERE / "profile.md").write_text("\n".join(parts))
    shutil.rmtree(snapshot, ignore_errors=True)
    print(f"wrote {HERE / 'profile.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
