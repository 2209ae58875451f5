"""/docs and /redoc render in a real headless Chromium with no network beyond the server, under their CSP.

Every request that leaves for anywhere but the server is aborted and counted, as it would fail offline.
Screenshots go to test-output/screenshots/ (or $VIGIL_SCREENSHOTS).
"""
from __future__ import annotations

import os
import urllib.request

import pytest

from events.personal_data import new_master_key

from .serving import CHROMIUM, CHROMIUM_ARGS, SHOTS, free_port, needs_chromium, vigil_serve

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """`vigil serve` on a fresh SQLite file (no worker: only pages are read)."""
    home = tmp_path_factory.mktemp("docs")
    port = free_port()
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{home / 'vigil.db'}", "VIGIL_MASTER_KEY": new_master_key(),
           "VIGIL_RUN_WORKER": "false", "VIGIL_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with vigil_serve(env, home, port) as url:
        yield url


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
