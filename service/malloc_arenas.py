"""Caps glibc's malloc arenas for a long-running process, unless MALLOC_ARENA_MAX already says how many."""
from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most `arenas` malloc arenas; True if it agreed. Called before the server starts its threads.

    glibc gives each new thread that allocates an arena of its own, up to 8 per core, and keeps each arena's freed
    memory. The threads here (the request thread pool, the worker's database calls, the scheduler) take turns at
    the GIL, so they gain next to nothing from separate arenas, while each kept a share of the peak's memory:
    after 2,000 alerts `vigil serve` stayed about 16 MiB larger than before them. Not glibc (musl, macOS): a no-op."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False  # the operator's choice, which glibc read at start
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_ARENA_MAX, arenas) == 1
