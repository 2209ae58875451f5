"""End to end in a real headless Chromium (Debian's package) driven by Playwright, against a real `vigil serve`.

Screenshots of the main pages go to test-output/screenshots/ (or $VIGIL_SCREENSHOTS) for people to look at.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from .serving import CHROMIUM, CHROMIUM_ARGS, SHOTS, VIGIL, free_port, needs_chromium, vigil_serve

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo loaded into a fresh SQLite file, then `vigil serve` with its worker and scheduler running."""
    home = tmp_path_factory.mktemp("e2e")
    port = free_port()
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{home / 'vigil.db'}",
           "VIGIL_MASTER_KEY_FILE": str(home / "master.key"),
           "VIGIL_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "VIGIL_SMTP_HOST": "127.0.0.1", "VIGIL_SMTP_PORT": str(free_port()),  # email subscriptions need one
           "VIGIL_SIGNIN_LOCK_AFTER": "3"}  # the first three failures never wait: a lockout with no delay to sleep
    env.pop("VIGIL_MASTER_KEY", None)
    env.pop("VIGIL_KEYRING_FILE", None)  # the default, beside the master key file
    loaded = subprocess.run([VIGIL, "demo", "--no-serve"], env=env, cwd=home, capture_output=True, text=True,
                            timeout=300, check=True)
    admin_key = re.search(r"admin API key \(shown once\): (\S+)", loaded.stdout).group(1)
    with vigil_serve(env, home, port) as base:
        yield {"base": base, "admin_key": admin_key, "env": env, "home": home}
    print((home / "serve.log").read_text()[-5000:])  # shown by pytest when a test failed


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Tashkent",
                                   locale="en-GB")
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: page.csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def sign_in(page, server) -> None:
    page.goto(server["base"] + "/")
    assert page.url.startswith(server["base"] + "/signin")
    page.get_by_label("API key").fill(server["admin_key"])
    shot(page, "01-sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server["base"] + "/")


def api(server, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(server["base"] + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {server['admin_key']}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def test_sign_in_find_akhmedov_and_read_the_timeline(page, server):
    sign_in(page, server)
    page.get_by_text("times in Asia/Tashkent").wait_for()  # the browser's zone, chosen by the script
    assert page.locator(".case-card").count() >= 40
    first_level = page.locator(".case-card .badge").first.inner_text().strip().lower()
    assert first_level == "critical"  # most urgent first
    shot(page, "02-cases", full_page=False)
    page.get_by_label("Name", exact=True).fill("Akhmedov")
    page.get_by_role("button", name="Filter").click()
    assert page.locator(".case-card").count() == 1
    page.get_by_role("link", name=re.compile("Akhmedov")).click()
    headline = page.locator(".headline .status-text").inner_text()
    assert headline == "Removed: detained at destination"
    assert page.locator(".headline .badge").inner_text().strip().lower() == "critical"
    timeline = page.locator("ol.timeline")
    assert timeline.get_by_text("Interim measure granted").count() >= 1
    assert timeline.get_by_text("Removed", exact=True).count() == 1
    assert "deported to UZ on 2023-11-15 despite ECtHR interim measure" in page.locator(".reasons-list").inner_text()
    shot(page, "03-case-akhmedov")
    # The same case as it stood before the removal: in France, an interim measure in force.
    page.get_by_label("Show the case as it stood on").fill("2023-11-01")
    page.get_by_role("button", name="Show").click()
    assert "Removed" not in page.locator(".headline .status-text").inner_text()
    page.get_by_text("later event").wait_for()
    shot(page, "04-case-akhmedov-as-of-2023-11-01")
    page.goto(page.url.split("?")[0] + "/dossier")
    assert "Hash chain of this case:" in page.content() and "verified" in page.content()
    shot(page, "05-dossier-akhmedov")
    assert page.csp_violations == []


def test_append_through_the_form_changes_the_status_and_the_alert_is_acknowledged(page, server):
    # A made-up person, so that no invented fact is recorded against a real one.
    sign_in(page, server)
    page.get_by_role("link", name="Open a case").click()
    page.get_by_label(re.compile("^Name")).fill("E2E Test Person (fictional)")
    page.get_by_label(re.compile("^Country the person is in")).fill("TR")
    page.get_by_label("Country they are at risk of being returned to").fill("UZ")
    page.get_by_label("Tags").fill("e2e-test")
    shot(page, "06a-open-case-form")
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_selector("text=Case opened.")
    case = {"id": page.url.split("/cases/")[1].split("?")[0]}
    assert page.locator(".headline .status-text").inner_text() == "Monitoring"
    page.get_by_label("Type of event").select_option("RemovalScheduled")  # the script loads its fields
    page.wait_for_selector("input[name=destination]")
    # Yesterday: news of the day pages (an event older than the history horizon would not, on its own).
    page.get_by_label("When it happened").fill((datetime.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Destination").fill("UZ")
    page.get_by_role("button", name=re.compile("^Record removal scheduled")).click()
    # First a mistake: neither `at` nor a window; the error shows and nothing is recorded.
    assert page.locator("p.error").inner_text().startswith("at, or both window_start and window_end")
    shot(page, "06-append-form-error")
    page.get_by_label("At", exact=True).fill("2030-01-15T06:30")
    page.get_by_role("button", name=re.compile("^Record removal scheduled")).click()
    page.wait_for_selector("text=Recorded: Removal scheduled.")
    assert page.locator(".headline .status-text").inner_text() == "Removal scheduled"
    assert page.locator("ol.timeline .event").first.locator(".event-type").inner_text() == "Removal scheduled"
    shot(page, "07-case-after-append")
    # A page left open keeps its countdowns current (the script ticks on the server's clock).
    page.clock.install()
    page.reload()
    countdown = page.locator(".upcoming [data-countdown]").first
    days = int(re.fullmatch(r"in (\d+) d", countdown.inner_text()).group(1))
    page.clock.run_for("48:00:00")
    assert countdown.inner_text() == f"in {days - 2} d"
    # The removal raised an alert: acknowledge it from the inbox.
    page.get_by_role("link", name="Alerts", exact=True).click()
    item = page.locator(".alert-item").filter(has_text="Removal to UZ")
    assert item.count() >= 1
    shot(page, "08-alerts-inbox", full_page=False)
    item.first.get_by_role("button", name=re.compile("^Acknowledge")).click()
    page.get_by_role("heading", name="Acknowledge 1 alert?").wait_for()  # asked first
    page.get_by_role("button", name="Yes, acknowledge 1").click()
    page.wait_for_url(re.compile(r"/alerts"))
    alerts = api(server, "GET", f"/v1/alerts?case_id={case['id']}")["items"]
    assert any(a["state"] == "acknowledged" and "Removal to UZ" in a["title"] for a in alerts)
    page.get_by_role("link", name="Acknowledged").click()
    assert page.locator(".alert-item").filter(has_text="Removal to UZ").count() >= 1
    assert page.csp_violations == []


def test_subscriptions_page_and_a_phone_sized_screen(page, server):
    sign_in(page, server)
    page.get_by_role("link", name="Subscriptions").click()
    page.get_by_role("textbox", name=re.compile("^Name")).fill("Night desk")
    checkpoints = page.get_by_label(re.compile("^Also send each signed checkpoint"))
    page.get_by_label("Channel", exact=True).select_option("webhook")
    assert checkpoints.is_visible()  # log.checkpoint: webhooks only
    page.get_by_label("Channel", exact=True).select_option("email")
    assert not page.get_by_label(re.compile("^Webhook URL")).is_visible()  # only the chosen channel's fields
    assert not checkpoints.is_visible()
    page.get_by_label(re.compile("^Email addresses")).fill("desk@example.org")
    page.get_by_role("button", name="Create subscription").click()
    page.get_by_text("Its signing secret is shown this once").wait_for()
    shot(page, "09-subscriptions")
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (("/", "10-phone-cases"), ("/alerts", "11-phone-alerts")):
        page.goto(server["base"] + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways on a phone by {overflow}px"
        shot(page, name, full_page=False)
    page.get_by_role("link", name="Cases").click()
    page.locator(".case-card a").first.click()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, "12-phone-case")


def test_works_without_javascript(chromium, server):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    case = api(server, "POST", "/v1/cases", {"person": {"name": "No Script Person (fictional)"}, "country": "GR",
                                             "tags": ["e2e-test"]})
    page.goto(server["base"] + f"/cases/{case['id']}")
    page.get_by_label("API key").fill(server["admin_key"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(f"/cases/{case['id']}$"))
    assert "times in UTC" in page.content()  # no script to detect the zone: UTC until chosen
    page.get_by_label("Type of event").select_option("NoteAdded")
    page.get_by_role("button", name="Choose").click()
    page.get_by_label("Text").fill("Called the lawyer; hearing expected next week.")
    page.get_by_role("button", name=re.compile("^Record note added")).click()
    page.wait_for_selector("text=Recorded: Note added.")
    page.get_by_text("Called the lawyer; hearing expected next week.").wait_for()
    context.close()


def test_grouped_inbox_and_bulk_acknowledge_without_javascript(chromium, server):
    """The demo's history paged nobody; fresh news does, grouped by case; a selection and then a whole case are
    acknowledged after a confirmation, with no script at all, on a phone-sized screen."""
    demo_ids = {c["id"] for c in api(server, "GET", "/v1/cases?limit=500")["items"]
                if "e2e-test" not in c.get("tags", [])}
    assert demo_ids and not {a["case_id"] for a in api(server, "GET", "/v1/alerts?state=all")["items"]} & demo_ids
    now = datetime.now(timezone.utc)
    cases = []
    for name in ("Inbox One (fictional)", "Inbox Two (fictional)"):
        case = api(server, "POST", "/v1/cases", {"person": {"name": name}, "country": "TR", "tags": ["e2e-test"]})
        for type_, data in (("WhereaboutsUnknown", {}), ("DetainedOnReturn", {})):
            api(server, "POST", f"/v1/cases/{case['id']}/events", {"type": type_, "occurred_at": now.isoformat(),
                                                                   "data": data})
        cases.append(case["id"])
    # Learned today, happened ten days ago: no page of its own, one "risk raised" alert dated by the event.
    api(server, "POST", f"/v1/cases/{cases[1]}/events", {
        "type": "Removed", "occurred_at": (now - timedelta(days=10)).isoformat(),
        "data": {"method": "deported", "destination": "UZ"}})
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(server["base"] + "/alerts")
    page.get_by_label("API key").fill(server["admin_key"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/alerts$"))
    groups = {name: page.locator(".alert-group").filter(has=page.get_by_role("heading", name=name))
              for name in ("Inbox One (fictional)", "Inbox Two (fictional)")}
    opened = [len(api(server, "GET", f"/v1/alerts?case_id={c}&state=open")["items"]) for c in cases]
    assert opened[0] >= 2 and opened[1] >= 3  # (a subscription made earlier may hear of the opening too)
    assert [group.locator(".alert-item").count() for group in groups.values()] == opened
    two = groups["Inbox Two (fictional)"]
    raised = two.locator(".alert-item").filter(has_text="no contact since removal")
    assert raised.locator(".happened").inner_text().startswith("happened ")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, "13-phone-alerts-grouped")
    # A selection: one alert of each case.
    for group in groups.values():
        group.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Acknowledge selected…").click()
    page.get_by_role("heading", name="Acknowledge 2 alerts?").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, "14-phone-confirm-acknowledge")
    page.get_by_role("button", name="Yes, acknowledge 2").click()
    page.wait_for_url(re.compile(r"/alerts\?state=open$"))
    states = [a["state"] for c in cases for a in api(server, "GET", f"/v1/alerts?case_id={c}&state=all")["items"]]
    assert sorted(states) == ["acknowledged"] * 2 + ["open"] * (sum(opened) - 2)
    # All of the second case at once.
    page.get_by_role("button", name=f"Acknowledge all {opened[1] - 1} open of this case…").click()
    page.get_by_role("button", name=f"Yes, acknowledge {opened[1] - 1}").click()
    page.wait_for_url(re.compile(r"/alerts"))
    assert {a["state"] for a in api(server, "GET", f"/v1/alerts?case_id={cases[1]}&state=all")["items"]} == {
        "acknowledged"}
    assert page.locator(".alert-group").filter(has=page.get_by_role("heading", name="Inbox Two (fictional)")).count() == 0
    page.get_by_role("link", name="All", exact=True).click()
    assert page.locator(".alert-group").filter(has=page.get_by_role("heading", name="Inbox Two (fictional)")).count() == 1
    context.close()


def test_main_pages_pass_axe_accessibility_checks(page, server):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    page.goto(server["base"] + "/signin")
    found = {"/signin": axe.run(page).response["violations"]}
    sign_in(page, server)
    case_id = page.locator(".case-card a").first.get_attribute("href")
    for path in ("/", f"{case_id}?type=RemovalScheduled", f"{case_id}/dossier", "/alerts", "/subscriptions",
                 "/settings", "/cases/new"):
        response = page.goto(server["base"] + path)
        assert response.status == 200, (path, response.status, page.content()[:500])
        found[path] = axe.run(page).response["violations"]
    problems = {path: [(v["id"], v["impact"], v["nodes"][0]["target"], v["help"]) for v in violations]
                for path, violations in found.items() if violations}
    assert problems == {}


def test_an_invited_person_sets_a_password_and_authenticator_then_signs_in(page, server):
    """Invitation -> password -> TOTP (the code computed here with pyotp) -> recovery codes -> sign-in."""
    import time

    import pyotp

    made = api(server, "POST", "/v1/users/invitations", {"role": "editor", "team": "rapid-response",
                                                         "name": "Browser Person"})
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    page.goto(made["url"])
    violations = {"password": axe.run(page).response["violations"]}
    page.get_by_label("Password", exact=True).fill("amber lantern over the steppe")
    page.get_by_label("The same password again").fill("amber lantern over the steppe")
    page.get_by_role("button", name="Continue").click()
    page.locator("figure.qr svg").wait_for()
    secret = page.locator("#totp-secret").inner_text().strip()
    shot(page, "20-enroll-totp")
    violations["totp"] = axe.run(page).response["violations"]
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    violations["codes"] = axe.run(page).response["violations"]
    assert {step: [v["id"] for v in found] for step, found in violations.items() if found} == {}
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Name or email").fill("Browser Person")
    page.get_by_label("Password").fill("amber lantern over the steppe")
    page.get_by_role("button", name="Sign in").click()
    # Two steps: only after the right password does the second factor's page come.
    page.wait_for_url(server["base"] + "/signin/code")
    assert page.get_by_label("Name or email").count() == 0
    # The code of the next time step: the one just used to enroll is good only once.
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server["base"] + "/")
    assert "Browser Person · editor · team rapid-response" in page.content()


def enroll_with_app(page, url: str, password: str) -> tuple[str, list[str]]:
    """Follow an invitation with an authenticator app (codes computed here); the secret and the recovery codes."""
    import pyotp

    page.goto(url)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("The same password again").fill(password)
    page.get_by_role("button", name="Continue").click()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    return secret, page.locator("#recovery-codes code").all_inner_texts()


def two_steps(page, base: str, account: str, password: str, code: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Name or email").fill(account)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/signin/code")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(code)
    page.get_by_role("button", name="Sign in").click()


def test_a_recovery_code_signs_in_once_and_is_refused_the_second_time(page, server):
    made = api(server, "POST", "/v1/users/invitations", {"role": "viewer", "team": "rapid-response",
                                                         "name": "Recovery Person"})
    _, codes = enroll_with_app(page, made["url"], "copper kettle on a winter stove")
    two_steps(page, server["base"], "Recovery Person", "copper kettle on a winter stove", codes[0])
    page.wait_for_url(server["base"] + "/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/signin"))
    two_steps(page, server["base"], "Recovery Person", "copper kettle on a winter stove", codes[0])
    page.locator("#signin-error").wait_for()
    assert "That code is not right" in page.locator("#signin-error").inner_text()
    assert page.url == server["base"] + "/signin/code"


def test_a_disabled_person_is_thrown_out_at_their_next_click(page, server):
    import time

    import pyotp

    made = api(server, "POST", "/v1/users/invitations", {"role": "editor", "team": "rapid-response",
                                                         "name": "Soon Disabled"})
    secret, _ = enroll_with_app(page, made["url"], "lanterns hang along the quay")
    two_steps(page, server["base"], "Soon Disabled", "lanterns hang along the quay",
              pyotp.TOTP(secret).at(time.time() + 30))
    page.wait_for_url(server["base"] + "/")
    person = [p for p in api(server, "GET", "/v1/users") if p["name"] == "Soon Disabled"][0]
    api(server, "POST", f"/v1/users/{person['id']}/disable")
    page.locator("a[href=\"/settings\"]").first.click()
    page.wait_for_url(re.compile("/signin"))
    assert page.get_by_label("Name or email").is_visible()


def signin_answer(page, base: str, account: str, password: str) -> tuple[int, str]:
    """The first sign-in step's status and message, as the browser got them."""
    page.goto(base + "/signin")
    page.get_by_label("Name or email").fill(account)
    page.get_by_label("Password").fill(password)
    with page.expect_response(lambda r: r.url == base + "/signin" and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return answer.value.status, page.locator("main").inner_text()


def test_a_lockout_refuses_even_the_right_password_stops_the_session_and_an_admin_unlocks(chromium, server):
    """The server locks after 3 failures (VIGIL_SIGNIN_LOCK_AFTER=3), so nothing here waits for a delay."""
    import time

    import pyotp

    base = server["base"]
    person, guesser, admin = (chromium.new_context(locale="en-GB").new_page() for _ in range(3))
    try:
        made = api(server, "POST", "/v1/users/invitations", {"role": "editor", "team": "rapid-response",
                                                             "name": "Locked Person"})
        secret, codes = enroll_with_app(person, made["url"], "quiet harbour under grey skies")
        two_steps(person, base, "Locked Person", "quiet harbour under grey skies", codes[0])
        person.wait_for_url(base + "/")
        for _ in range(3):
            status, said = signin_answer(guesser, base, "Locked Person", "a guess that is not it")
            assert status == 401 and "The account or password is not right" in said
        # Locked: the right password gets the very answer a wrong one gets, and tells nothing.
        right = signin_answer(guesser, base, "Locked Person", "quiet harbour under grey skies")
        assert right[0] == 429 and "Too many failed sign-ins" in right[1]
        assert signin_answer(guesser, base, "Locked Person", "another wrong guess") == right
        shot(guesser, "23-locked-out")
        # The person's open session stops at their next click.
        person.locator("a[href=\"/settings\"]").first.click()
        person.wait_for_url(re.compile("/signin"))
        # An admin sees the lock on the settings page, with its Unlock button.
        sign_in(admin, server)
        admin.goto(base + "/settings")
        row = admin.locator("#people tr", has_text="Locked Person")
        assert re.search(r"Locked since .*: 3 failed sign-ins, from 127\.0\.0\.1\.", row.inner_text())
        shot(admin, "24-settings-locked-person")
        row.get_by_role("button", name="Unlock").click()
        admin.wait_for_url(base + "/settings")
        assert "Locked since" not in admin.locator("#people tr", has_text="Locked Person").inner_text()
        # Unlocked: the person signs in, in two steps, with the next code of their app.
        two_steps(person, base, "Locked Person", "quiet harbour under grey skies",
                  pyotp.TOTP(secret).at(time.time() + 30))
        person.wait_for_url(base + "/")
        assert "Locked Person · editor · team rapid-response" in person.content()
    finally:
        for page in (person, guesser, admin):
            page.context.close()


@pytest.fixture(scope="module")
def localhost_server(tmp_path_factory):
    """A second, empty `vigil serve` whose public URL is http://localhost:PORT: a passkey's relying party must be a
    domain name, and Chromium refuses WebAuthn on an IP address."""
    from events.personal_data import new_master_key

    home = tmp_path_factory.mktemp("e2e-passkeys")
    port = free_port()
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{home / 'vigil.db'}", "VIGIL_MASTER_KEY": new_master_key(),
           "VIGIL_PUBLIC_URL": f"http://localhost:{port}", "VIGIL_BOOTSTRAP_ADMIN_KEY": "e2e-passkeys-admin-key",
           "VIGIL_KEYRING_FILE": str(home / "keyring")}
    with vigil_serve(env, home, port):
        yield {"base": f"http://localhost:{port}", "admin_key": "e2e-passkeys-admin-key"}
    print((home / "serve.log").read_text()[-5000:])


def page_with_virtual_authenticator(chromium):
    """A page whose browser has a passkey authenticator (CDP WebAuthn.addVirtualAuthenticator, user verified)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return page


def test_a_person_adds_a_passkey_and_then_signs_in_with_it_alone(chromium, localhost_server):
    """Through Chromium's virtual authenticator (CDP WebAuthn.addVirtualAuthenticator), with user verification."""
    import time

    import pyotp

    server = localhost_server
    page = page_with_virtual_authenticator(chromium)
    made = api(server, "POST", "/v1/users/invitations", {"role": "viewer", "team": "lyon", "name": "Passkey Person"})
    page.goto(made["url"])
    page.get_by_label("Password", exact=True).fill("quiet river under nine bridges")
    page.get_by_label("The same password again").fill("quiet river under nine bridges")
    page.get_by_role("button", name="Continue").click()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    page.locator("#recovery-codes").wait_for()
    page.goto(server["base"] + "/signin?next=/settings")
    page.get_by_label("Name or email").fill("Passkey Person")
    page.get_by_label("Password").fill("quiet river under nine bridges")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server["base"] + "/signin/code")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server["base"] + "/settings")
    assert page.locator("#passkeys").inner_text().strip() == "none yet"
    page.get_by_role("button", name="Add a passkey").click()
    page.locator("#passkeys li", has_text="added").wait_for()
    shot(page, "21-passkey-added")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/signin"))
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(server["base"] + "/")
    assert "Passkey Person · viewer · team lyon" in page.content()
    page.context.close()


def test_an_invited_person_enrolls_a_passkey_instead_of_an_app(chromium, localhost_server):
    server = localhost_server
    page = page_with_virtual_authenticator(chromium)
    made = api(server, "POST", "/v1/users/invitations", {"role": "editor", "team": "lyon", "name": "Key Holder"})
    page.goto(made["url"])
    page.get_by_label("Password", exact=True).fill("seven owls guard the archive")
    page.get_by_label("The same password again").fill("seven owls guard the archive")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Use a passkey").click()
    page.locator("#recovery-codes").wait_for()
    assert page.locator("#recovery-codes code").count() == 10
    page.goto(server["base"] + "/signin")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(server["base"] + "/")
    assert "Key Holder · editor · team lyon" in page.content()
    page.context.close()
