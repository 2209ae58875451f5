"""Fewer garbage collections while a short-lived command loads many long-lived objects (a bulk import)."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

# Allocations between young collections (CPython's default is 700), then the default ratios above it. A bulk
# import keeps every line's id and content until it ends, and each full collection walks all of them: with the
# defaults the collector took about a sixth of the import's CPU.
YOUNG_EVERY = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Objects made so far (modules, schemas) are moved out of the collector's sight and the young generation
    is collected every YOUNG_EVERY allocations; both undone on the way out. Cycles are still collected."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_EVERY, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
