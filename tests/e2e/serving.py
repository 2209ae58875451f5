"""What the end-to-end tests share: Debian's Chromium and its switches, and a real `vigil serve` to drive."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("VIGIL_SCREENSHOTS", REPO / "test-output" / "screenshots"))
VIGIL = str(Path(sys.executable).with_name("vigil"))
# As the machine notes say: without the background-networking switches Chromium keeps dialling out.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def needs_chromium():
    """The module's skip mark; on CI a missing Chromium is an error, not a skip."""
    if not Path(CHROMIUM).exists() and os.environ.get("CI"):
        raise RuntimeError("end-to-end tests cannot run: chromium is not installed")
    return pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def vigil_serve(env: dict[str, str], home: Path, port: int) -> Iterator[str]:
    """`vigil serve` on `port` until the block ends; yields its base URL once /healthz answers."""
    log = (home / "serve.log").open("w")  # a file, not a pipe: a full pipe would stall the server
    process = subprocess.Popen([VIGIL, "serve", "--port", str(port)], env=env, cwd=home, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("vigil serve did not start: " + (home / "serve.log").read_text()[-2000:])
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
