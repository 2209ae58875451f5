"""Evidence bundle: the wall time of `python3 verify.py bundle.zip` on a 1,000-event bundle, and of building it.

    .venv/bin/python -m bench.verify_bundle [--events 1000] [--runs 5]

The bundle is real (tests/unit/evidence_bundles.py: a real RFC 6962 tree over this case's events interleaved
with other cases' events, a checkpoint signed and cosigned by two witnesses with Ed25519 keys). verify.py runs as
a lawyer runs it: a fresh `python3 -I -S` process (so interpreter start-up is included), checking the manifest,
every chain link and inclusion proof, the log signature and both cosignatures. Prints the markdown section that
goes into bench/results.md."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evidence import bundle as bundle_module
from tests.unit.evidence_bundles import make_bundle

TARGET_SECONDS = 2.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

    started = time.perf_counter()
    exported = make_bundle(events=args.events, others_between=1, witnesses=2)
    setup = time.perf_counter() - started

    builds = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        (path / "bundle.zip").write_bytes(exported.zip_bytes)
        (path / "verify.py").write_bytes(bundle_module.VERIFIER)
        witness_args = [a for key in exported.witness_keys for a in ("--witness-key", key)]
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            done = subprocess.run([python, "-I", "-S", "verify.py", "bundle.zip", *witness_args], cwd=path,
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if done.returncode != 0 or "RESULT: VERIFIED" not in done.stdout:
                raise SystemExit(f"verify.py did not verify the bundle:\n{done.stdout}{done.stderr}")
        started = time.perf_counter()
        subprocess.run([python, "-I", "-S", "-c", "pass"], check=True)
        bare = time.perf_counter() - started
    for _ in range(args.runs):
        started = time.perf_counter()
        make_bundle(events=args.events, others_between=1, witnesses=2)
        builds.append(time.perf_counter() - started)

    med = statistics.median(times)
    version = subprocess.run([python, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"## 7. Evidence bundle: verify.py on a {args.events:,}-event bundle\n")
    print("| measure | median | runs | target | result |")
    print("| --- | ---: | --- | --- | --- |")
    print(f"| `python3 -I -S verify.py bundle.zip` with 2 `--witness-key`, wall time, s | {med:.2f} | "
          + ", ".join(f"{t:.2f}" for t in times)
          + f" | < {TARGET_SECONDS:.0f} s | **{'PASS' if med < TARGET_SECONDS else 'FAIL'}** |")
    print(f"| (info) the same interpreter starting and doing nothing, s | {bare:.2f} | 1 run | info | info |")
    print(f"| (info) building the test log and the bundle (tree, proofs, signing, build_bundle with its own "
          f"verification), s | {statistics.median(builds):.2f} | " + ", ".join(f"{t:.2f}" for t in builds)
          + " | info | info |")
    print(f"\n- Command: `.venv/bin/python -m bench.verify_bundle --events {args.events} --runs {args.runs}`; "
          f"verify.py under {version} (`{python}`), a fresh process per run. The bundle: {args.events:,} events of "
          f"one case interleaved with as many of other cases (tree size {exported.tree_size:,}), "
          f"{len(exported.zip_bytes) / 1024:.0f} KiB zipped; all checks ran (manifest, chain, "
          f"{args.events:,} inclusion proofs, log signature, 2 cosignatures). First build (untimed set-up) "
          f"{setup:.2f} s. Load average (1 min) {os.getloadavg()[0]:.2f}.")


if __name__ == "__main__":
    main()
