"""/docs and /redoc render in a real headless Chromium with no network beyond the server, under their CSP.

Every request that leaves for anywhere but the server is aborted and counted, as it would fail offline.
Screenshots go to test-output/screenshots/ (or $VIGIL_SCREENSHOTS).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from events.personal_data import new_master_key

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("VIGIL_SCREENSHOTS", REPO / "test-output" / "screenshots"))
VIGIL = str(Path(sys.executable).with_name("vigil"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists() and os.environ.get("CI"):
    raise RuntimeError("end-to-end tests cannot run: chromium is not installed")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """`vigil serve` on a fresh SQLite file (no worker: only pages are read)."""
    home = tmp_path_factory.mktemp("docs")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{home / 'vigil.db'}", "VIGIL_MASTER_KEY": new_master_key(),
           "VIGIL_RUN_WORKER": "false", "VIGIL_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    log = (home / "serve.log").open("w")
    process = subprocess.Popen([VIGIL, "serve", "--port", str(port)], env=env, cwd=home, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("vigil serve did not start: " + (home / "serve.log").read_text()[-2000:])
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture
def page(base):
    """A page that may reach the server alone; it records every request, console error and page error."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.requests, page.outside, page.errors = [], [], []

        def only_the_server(route):
            if route.request.url.startswith(base + "/"):
                route.continue_()
            else:
                page.outside.append(route.request.url)
                route.abort("internetdisconnected")

        context.route("**/*", only_the_server)
        page.on("request", lambda request: page.requests.append(request.url))
        page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_swagger_ui_lists_the_operations_offline(page, base):
    response = page.goto(base + "/docs")
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "script-src 'self' 'sha256-" in csp
    page.locator(".opblock-summary-path", has_text="/v1/cases").first.wait_for(timeout=15_000)
    assert page.locator(".opblock").count() > 10
    page.wait_for_load_state("networkidle")
    shot(page, "docs-swagger-ui")
    assert page.outside == [] and page.errors == []
    assert page.requests and all(url.startswith("http://127.0.0.1:") for url in page.requests)


def test_redoc_shows_the_api_offline(page, base):
    response = page.goto(base + "/redoc")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"].split("style-src")[0]
    page.get_by_role("heading", name="Vigil (0.1.0)").wait_for(timeout=15_000)
    page.get_by_text("/v1/cases").first.wait_for(timeout=15_000)
    page.wait_for_load_state("networkidle")
    shot(page, "docs-redoc")
    assert page.outside == [] and page.errors == []
    assert page.requests and all(url.startswith("http://127.0.0.1:") for url in page.requests)


def test_the_favicon_is_served(base):
    with urllib.request.urlopen(base + "/favicon.ico", timeout=5) as response:
        assert response.headers["content-type"] == "image/svg+xml" and b"<svg" in response.read()
