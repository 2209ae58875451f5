"""The Merkle log's cost: the append with the tree against the same append without it, and proof times at
2,000,000 leaves.

    .venv/bin/python -m bench.log_tree            # the measured run (a few minutes)
    .venv/bin/python -m bench.log_tree --quick    # a smoke run with tiny sizes

(a) `EventStore.append` with the container's steps (projection, outbox, reminders), once with its `LogTree` and
once with `log=False`, same process, same kind of fresh database, interleaved run by run (the order alternates);
medians of the runs. SQLite file under /tmp, and the durable PostgreSQL server of bench/pg.py.
(b) A real tree over 2,000,000 leaf hashes written straight into `log_nodes` (every complete subtree, as appends
would have written them), then inclusion and consistency proofs for random indexes and sizes, each timed through
`TransparencyLog` as the API calls it (connection, size read, one look-up of every stored hash, folding).
"""
from __future__ import annotations

import random
import time

from .common import fresh_dir, median, percentile
from .store_append import SQLITE_PRAGMAS, sqlite_vigil_pragmas, vigil_run

TARGET_OVERHEAD = 0.15
TARGET_P99_MS = 5.0


def _append_rows(label: str, runs: dict[str, list[float]], n: int) -> list[str]:
    with_tree, without = median(runs["with"]), median(runs["without"])
    overhead = without / with_tree - 1  # time per event with the tree over time per event without it
    verdict = "pass" if overhead <= TARGET_OVERHEAD else "**FAIL**"
    return [
        f"| {label}, {n} events, 1 event/txn, container's steps: with the tree | {with_tree:,.0f} events/s | "
        f"{without:,.0f} events/s | {overhead * 100:+.1f}% | <= +15% | {verdict} |",
        "",
        f"{label} runs (events/s): with the tree {', '.join(f'{r:,.0f}' for r in runs['with'])}; without "
        f"{', '.join(f'{r:,.0f}' for r in runs['without'])}.",
    ]


def append_cost(repeats: int, streams: int, per_stream: int, postgres: bool) -> list[str]:
    runs: dict[str, list[float]] = {"with": [], "without": []}
    server = None
    try:
        if postgres:
            from .pg import start_durable_postgres
            server = start_durable_postgres()
        for i in range(repeats):
            order = ["with", "without"] if i % 2 == 0 else ["without", "with"]
            for name in order:
                log = name == "with"
                if server is not None:
                    database = f"bench_log_{name}_{i}"
                    server.create_database(database)
                    try:
                        rate = vigil_run(server.sqlalchemy_url(database), streams, per_stream,
                                         check=lambda engine: server.checkpoint(), outbox=True, log=log)
                    finally:
                        server.drop_database(database)
                else:
                    def check(engine):
                        assert sqlite_vigil_pragmas(engine) == SQLITE_PRAGMAS

                    with fresh_dir("log-append") as d:
                        rate = vigil_run(f"sqlite:///{d}/bench.db", streams, per_stream, check, outbox=True, log=log)
                runs[name].append(rate)
    finally:
        if server is not None:
            server.stop()
    return _append_rows("PostgreSQL" if postgres else "SQLite", runs, streams * per_stream)


def _fill(engine, leaves: int) -> float:
    """Write every complete subtree of a tree over `leaves` synthetic leaf hashes; returns the seconds it took."""
    from events import merkle
    from events.fastsql import positional
    from events.log_tree import INSERT_NODE_SQLITE, Frontier, node_rows_sqlite

    start = time.perf_counter()
    frontier = Frontier()
    batch: list[tuple[int, int, int, int, bytes]] = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")  # make_engine's SQLite connections commit each statement unless begun
        for i in range(leaves):
            batch.extend(node_rows_sqlite(frontier.add(merkle.leaf_hash(i.to_bytes(8, "big")))))
            if len(batch) >= 50_000 or i == leaves - 1:
                cursor.executemany(positional(INSERT_NODE_SQLITE, False), batch)  # as the store writes them
                batch.clear()
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - start


def proof_times(leaves: int, samples: int) -> list[str]:
    from events.engine import make_engine
    from events.log_tree import LogTree
    from events.migrations import upgrade
    from events import merkle
    from service.transparency_log import TransparencyLog

    with fresh_dir("log-proofs") as d:
        engine = make_engine(f"sqlite:///{d}/bench.db")
        try:
            upgrade(engine)
            fill_seconds = _fill(engine, leaves)
            log = TransparencyLog(engine, LogTree())
            assert log.size() == leaves
            rng = random.Random(17)
            inclusion_ms, consistency_ms = [], []
            for _ in range(samples):
                size = rng.randint(leaves // 2, leaves)
                index = rng.randrange(size)
                start = time.perf_counter()
                proof = log.inclusion(index, size)
                inclusion_ms.append((time.perf_counter() - start) * 1000)
                old = rng.randint(1, size)
                start = time.perf_counter()
                log.consistency(old, size)
                consistency_ms.append((time.perf_counter() - start) * 1000)
            # One proof checked against the reference computation, so what was timed is a right answer.
            leaf = merkle.leaf_hash(index.to_bytes(8, "big"))
            import base64
            hashes = [base64.b64decode(h) for h in proof["hashes"]]
            with engine.connect() as conn:
                root = LogTree().root(conn, size)
            assert merkle.verify_inclusion(leaf, index, size, hashes, root)
        finally:
            engine.dispose()
    rows = []
    for name, times in (("inclusion proof (random index, random size in [n/2, n])", inclusion_ms),
                        ("consistency proof (random old <= random new in [n/2, n])", consistency_ms)):
        p99 = percentile(times, 99)
        rows.append(f"| SQLite, {leaves:,} leaves: {name}, through TransparencyLog | "
                    f"{percentile(times, 50):.2f} ms | {p99:.2f} ms | < {TARGET_P99_MS:.0f} ms p99 | "
                    f"{'pass' if p99 < TARGET_P99_MS else '**FAIL**'} |")
    rows += ["", f"{samples} samples each; the tree ({leaves:,} leaves, {2 * leaves - bin(leaves).count('1'):,} "
                 f"stored nodes) was written in {fill_seconds:.0f} s before timing."]
    return rows


def main(quick: bool = False) -> str:
    repeats, streams, per_stream = (2, 20, 5) if quick else (5, 100, 10)
    leaves, samples = (20_000, 200) if quick else (2_000_000, 2000)
    lines = ["## 7. The Merkle log: what the tree adds to an append, and proof times", "",
             "| measure | with the tree (median) | without (median) | time added per event | target | result |",
             "| --- | ---: | ---: | ---: | --- | --- |"]
    sqlite = append_cost(repeats, streams, per_stream, postgres=False)
    postgres = append_cost(repeats, streams, per_stream, postgres=True)
    lines += [sqlite[0], postgres[0], "", sqlite[2], "", postgres[2], "",
              "| measure | p50 | p99 | target | result |", "| --- | ---: | ---: | --- | --- |"]
    lines += proof_times(leaves, samples)
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    print(main(quick="--quick" in sys.argv))
