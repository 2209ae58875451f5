"""The dashboard in Chromium: in Russian for a browser that asks for it, and right to left with an Arabic stub
catalogue (an operator's extra language), the layout mirrored rather than broken."""
from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from playwright import sync_api

from .serving import CHROMIUM, CHROMIUM_ARGS, SHOTS, VIGIL, free_port, needs_chromium, vigil_serve

pytestmark = needs_chromium()

ARABIC_STUB = """msgid ""
msgstr ""
"Language: ar\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);\\n"

msgid "Cases"
msgstr "القضايا"

msgid "Alerts"
msgstr "التنبيهات"

msgid "Sign in"
msgstr "تسجيل الدخول"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("e2e-languages")
    stub = home / "locales" / "ar" / "LC_MESSAGES"
    stub.mkdir(parents=True)
    (stub / "vigil.po").write_text(ARABIC_STUB, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{home / 'vigil.db'}",
           "VIGIL_MASTER_KEY_FILE": str(home / "master.key"), "VIGIL_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "VIGIL_LOCALES_DIR": str(home / "locales")}
    env.pop("VIGIL_MASTER_KEY", None)
    env.pop("VIGIL_KEYRING_FILE", None)
    loaded = subprocess.run([VIGIL, "demo", "--no-serve"], env=env, cwd=home, capture_output=True, text=True,
                            timeout=300, check=True)
    admin_key = re.search(r"admin API key \(shown once\): (\S+)", loaded.stdout).group(1)
    with vigil_serve(env, home, port) as base:
        yield {"base": base, "admin_key": admin_key}


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _signed_in(chromium, server, locale: str):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale=locale,
                                   extra_http_headers={"Accept-Language": locale})
    page = context.new_page()
    page.clock.install()  # the countdowns' timer, run forward below rather than waited for
    page.goto(server["base"] + "/signin")
    page.locator("#api_key").fill(server["admin_key"])
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(server["base"] + "/")
    return context, page


def _api(server, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(server["base"] + path, method=method, data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {server['admin_key']}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_the_dashboard_in_russian_for_a_russian_browser(chromium, server):
    context, page = _signed_in(chromium, server, "ru-RU")
    try:
        assert page.locator("html").get_attribute("lang") == "ru"
        assert page.locator("html").get_attribute("dir") == "ltr"
        assert page.get_by_role("heading", level=1).first.inner_text().startswith("Дела")
        nav = page.get_by_role("navigation")
        assert nav.get_by_role("link", name="Оповещения").is_visible()
        assert page.get_by_role("link", name="Открыть дело").is_visible()
        assert page.locator(".badge.risk-critical").first.text_content() == "критический"
        reasons = page.locator("p.reasons").all_inner_texts()
        assert reasons and not any("scheduled" in r or "removal" in r for r in reasons), reasons
        page.locator("ol.cases h2 a").first.click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Хронология").is_visible()
        assert page.get_by_role("heading", name="Ближайшие даты").is_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "lang-ru-case.png"), full_page=False)
        case_id = _api(server, "POST", "/v1/cases", {"person": {"name": "Countdown Person"}, "country": "TR"})["id"]
        soon = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
        _api(server, "POST", f"/v1/cases/{case_id}/events", {
            "type": "HearingScheduled", "occurred_at": datetime.now(timezone.utc).isoformat(),
            "data": {"kind": "appeal", "court": "Istanbul", "at": soon}})
        page.goto(server["base"] + f"/cases/{case_id}")
        before = page.locator("[data-countdown]").all_inner_texts()
        page.clock.run_for(31_000)  # vigil.js rewrites every countdown after 30 s, in the page's words
        ticking = page.locator("[data-countdown]").all_inner_texts()
        assert ticking and all(re.search(r"через|назад", t) for t in before + ticking), ticking
    finally:
        context.close()


def test_right_to_left_with_an_arabic_stub_mirrors_the_header(chromium, server):
    context, page = _signed_in(chromium, server, "en-GB")
    try:
        page.locator("#lang-pick").select_option("ar")
        page.get_by_role("button", name="Change language").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("html").get_attribute("lang") == "ar"
        nav = page.get_by_role("navigation")
        assert nav.get_by_role("link", name="القضايا").is_visible()
        brand = page.locator(".brand").bounding_box()
        who = page.locator(".who").bounding_box()
        width = page.viewport_size["width"]
        # mirrored: the brand sits at the right edge, the account details towards the left
        assert brand["x"] + brand["width"] > width * 0.8 and who["x"] < brand["x"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "lang-ar-rtl.png"), full_page=False)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width  # nothing pushed off the page
    finally:
        context.close()
