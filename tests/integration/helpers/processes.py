"""Helpers for tests that start real `vigil` processes: the command, and whether a server answers ready."""
from __future__ import annotations

import sys
from pathlib import Path

import httpx

VIGIL = str(Path(sys.executable).parent / "vigil")


def ready(base: str) -> bool:
    try:
        return httpx.get(base + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
