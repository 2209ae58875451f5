"""limit_arenas caps glibc's malloc arenas (counted by malloc_stats in a fresh process) and leaves an operator's
MALLOC_ARENA_MAX alone."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.malloc_arenas import limit_arenas

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import ctypes, sys, threading
if sys.argv[1] == "limit":
    from service.malloc_arenas import limit_arenas
    assert limit_arenas()
def work():
    kept = [bytes(100) * i for i in range(2000)]
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL("libc.so.6").malloc_stats()  # one "Arena n:" block per arena, on stderr
"""

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                           reason="glibc only")


def arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True, timeout=60)
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@glibc
def test_eight_threads_share_two_arenas_once_limited():
    assert arenas("none") > 2  # the default: a new arena per thread, the reason for the limit
    assert arenas("limit") <= 2


def test_an_operators_setting_is_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False
