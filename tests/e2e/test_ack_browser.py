"""Acknowledging from an email in Chromium: the link from a message a real SMTP server received, its page, its
button, and the dashboard showing the alert acknowledged via that email link."""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from datetime import datetime, timezone

import pytest
from aiosmtpd.controller import Controller
from playwright import sync_api

from events.personal_data import new_master_key

from ..integration.helpers.smtp import Inbox
from .serving import CHROMIUM, CHROMIUM_ARGS, SHOTS, free_port, needs_chromium, vigil_serve

pytestmark = needs_chromium()
ADMIN = "e2e-ack-admin-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`vigil serve` (worker and scheduler running) sending email to a real aiosmtpd server."""
    home = tmp_path_factory.mktemp("e2e-ack")
    inbox, smtp_port, port = Inbox(), free_port(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{home / 'vigil.db'}", "VIGIL_MASTER_KEY": new_master_key(),
           "VIGIL_KEYRING_FILE": str(home / "keyring.json"), "VIGIL_BOOTSTRAP_ADMIN_KEY": ADMIN,
           "VIGIL_PUBLIC_URL": f"http://127.0.0.1:{port}", "VIGIL_SMTP_HOST": "127.0.0.1",
           "VIGIL_SMTP_PORT": str(smtp_port)}
    try:
        with vigil_serve(env, home, port) as base:
            yield {"base": base, "inbox": inbox}
    finally:
        smtp.stop()


def api(server, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(server["base"] + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def test_open_the_link_from_an_email_press_the_button_and_the_alert_shows_acknowledged(server):
    api(server, "POST", "/v1/subscriptions", {"name": "FR desk", "channel": {"kind": "email", "to": ["d@ngo.example"]},
                                              "filter": {"event_types": ["Removed"]}})
    case_id = api(server, "POST", "/v1/cases", {"person": {"name": "Browser Person"}, "country": "FR",
                                                "origin_country": "UZ"})["id"]
    api(server, "POST", f"/v1/cases/{case_id}/events",
        {"type": "Removed", "occurred_at": datetime.now(timezone.utc).isoformat(),
         "data": {"method": "deported", "destination": "UZ"}})
    deadline = time.monotonic() + 30
    while not server["inbox"].messages:  # the server's own worker sends it; nothing here can move its clock
        assert time.monotonic() < deadline, "no email arrived"
        time.sleep(0.1)
    [mail] = server["inbox"].messages
    [link] = re.findall(r"http://\S+/ack/\S+", mail.get_body(("plain",)).get_content())

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="en-GB").new_page()
            page.goto(link)
            page.get_by_role("heading", name="Acknowledge this alert?").wait_for()
            assert "Removed (deported) to UZ" in page.content() and "Browser Person" not in page.content()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "ack-link-confirm.png"), full_page=True)
            [alert] = api(server, "GET", f"/v1/alerts?case_id={case_id}")["items"]
            assert alert["state"] == "open"  # opening the link changed nothing
            page.get_by_role("button", name="Acknowledge").click()
            page.get_by_role("heading", name="Acknowledged").wait_for()
            page.screenshot(path=str(SHOTS / "ack-link-done.png"), full_page=True)

            page.goto(server["base"] + "/alerts?state=acknowledged")
            page.get_by_label("API key").fill(ADMIN)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(r".*/alerts\?state=acknowledged$"))
            via = page.locator(".ack-via")
            assert via.count() == 1 and via.inner_text() == "via email link, subscription 'FR desk'"
        finally:
            browser.close()
    [alert] = api(server, "GET", f"/v1/alerts?case_id={case_id}&state=all")["items"]
    assert alert["state"] == "acknowledged" and alert["acknowledged_via"] == "email link, subscription 'FR desk'"
