"""Live pages in Debian's Chromium: two `vigil serve` processes on one database (SQLite, PostgreSQL), the browser on one and the API on
the other; an appended event shows on an open case page and the case list within 2 s, and the page says when it
lost its server and stops saying so once it is back."""
from __future__ import annotations

import json
import os
import urllib.request

import pytest

from events.personal_data import new_master_key

from .serving import CHROMIUM, CHROMIUM_ARGS, free_port, needs_chromium, vigil_serve

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium()
ADMIN = "live-e2e-admin-key"


def call(base: str, method: str, path: str, body: dict | None) -> dict:
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """One SQLite file, or one PostgreSQL database, shared by both processes."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigil.db'}"
    return request.getfixturevalue("postgres_url")


def test_a_page_follows_appends_made_through_another_process(tmp_path, database_url):
    env = {**os.environ, "VIGIL_DATABASE_URL": database_url, "VIGIL_MASTER_KEY": new_master_key(),
           "VIGIL_BOOTSTRAP_ADMIN_KEY": ADMIN, "VIGIL_KEYRING_FILE": str(tmp_path / "keyring"),
           "VIGIL_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"}  # the subscription below points at a closed local port
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    port_a, port_b = free_port(), free_port()
    with vigil_serve(env, tmp_path / "b", port_b) as other, \
            sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        call(other, "POST", "/v1/subscriptions", {"name": "desk", "channel": {  # so an opened case raises an alert
            "kind": "webhook", "url": f"http://127.0.0.1:{free_port()}/hook"}})
        case_id = call(other, "POST", "/v1/cases", {"person": {"name": "Live Test Person"}, "country": "FR"})["id"]
        with vigil_serve(env, tmp_path / "a", port_a) as base:
            page.goto(base + "/signin")
            page.get_by_label("API key").fill(ADMIN)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/")
            case_page = browser.new_page()
            case_page.context.add_cookies(page.context.cookies())
            case_page.goto(f"{base}/cases/{case_id}")
            timeline = case_page.locator("[data-live-part=timeline] .event-type")
            assert timeline.count() == 1
            inbox = browser.new_page()
            inbox.context.add_cookies(page.context.cookies())
            inbox.goto(base + "/alerts")
            marker = page.evaluate("() => { window.notReloaded = true; return 1; }")
            # Opened through the other process: the list, which did not show it, shows it without a reload, and
            # the inbox the alert it raised.
            second = call(other, "POST", "/v1/cases", {"person": {"name": "Second Live Person"}, "country": "FR"})
            page.get_by_text("Second Live Person").wait_for(timeout=2000)
            inbox.locator(f"#group-{second['id']}").wait_for(timeout=2000)
            # Acknowledged through the other process: gone from the open alerts.
            for alert in call(other, "GET", f"/v1/alerts?case_id={second['id']}", None)["items"]:
                call(other, "POST", f"/v1/alerts/{alert['id']}/ack", {})
            inbox.locator(f"#group-{second['id']}").wait_for(state="detached", timeout=2000)
            call(other, "POST", f"/v1/cases/{case_id}/events",
                 {"type": "Detained", "occurred_at": "2026-01-01T10:00:00Z", "data": {"place": "Nice"}})
            case_page.locator("[data-live-part=timeline] .event-type").nth(1).wait_for(timeout=2000)
            assert case_page.locator("[data-live-part=now]").get_by_text("Detained").count() >= 1
            assert page.evaluate("() => window.notReloaded") == marker
            assert second["id"]
            banner = case_page.locator("[data-live-lost]")
            assert banner.is_hidden()
        # The server the page came from went away: the page says so ...
        banner.wait_for(state="visible", timeout=10000)
        assert "reconnecting" in banner.inner_text()
        # ... and stops saying so once it is back.
        with vigil_serve(env, tmp_path / "a", port_a):
            banner.wait_for(state="hidden", timeout=15000)
        assert errors == []
        browser.close()
