"""Vigil benchmarks: run `python -m bench.run` from the repository root; results go to bench/results.md."""
