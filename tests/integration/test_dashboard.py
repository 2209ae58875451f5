"""The HTML dashboard through its routes: sign-in, CSRF, every page and form, validation errors, forbidden access."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from events.clock import ManualClock
from events.tables import access_log
from notifications.tables import deliveries
from service.keys import KeyService

from ..conftest import ADMIN_KEY
from .helpers.delivery import drain
from .helpers.pages import csrf_of

NOW = datetime.now(timezone.utc).replace(microsecond=0)
TEMPLATES = Path(__file__).resolve().parents[2] / "service" / "templates"


@pytest.fixture
def clock():
    # Webhook receivers check signatures' timestamps against their own clock: start at the real now.
    return ManualClock(NOW, tick=timedelta(milliseconds=1))


def sign_in(browser, key: str, timezone_name: str = "UTC", next_path: str = "/"):
    form = browser.get("/signin", params={"next": next_path})
    return browser.post("/signin", data={"api_key": key, "timezone": timezone_name, "next": next_path,
                                         "csrf_token": csrf_of(form.text)})


def open_case(api, name="Dana Example", country="TR", origin="UZ", tags=("extradition",), teams=None) -> str:
    body = {"person": {"name": name}, "country": country, "origin_country": origin, "tags": list(tags),
            "occurred_at": (NOW - timedelta(days=30)).isoformat()}
    if teams:
        body["teams"] = teams
    response = api.post("/v1/cases", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def append(api, case_id, type_, data, occurred_at=None, source=None):
    body = {"type": type_, "occurred_at": (occurred_at or NOW - timedelta(days=1)).isoformat(), "data": data}
    if source:
        body["source"] = source
    response = api.post(f"/v1/cases/{case_id}/events", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def events_of(api, case_id) -> list[dict]:
    return api.get(f"/v1/cases/{case_id}/events").json()["items"]


# ---- signing in ----
def test_pages_send_strangers_to_sign_in(browser, api):
    case_id = open_case(api)
    for path in ("/", f"/cases/{case_id}", "/alerts", "/subscriptions", f"/cases/{case_id}/dossier"):
        response = browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=" + path.split("?")[0])


def test_sign_in_sets_a_strict_httponly_cookie_and_sign_out_ends_the_session(browser, api):
    open_case(api, name="Signed In Person")
    signed = sign_in(browser, ADMIN_KEY, next_path="/alerts")
    assert signed.status_code == 303 and signed.headers["location"] == "/alerts"
    cookie = signed.headers["set-cookie"]
    assert "vigil_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    stolen = browser.cookies.get("vigil_session")
    home = browser.get("/")
    assert home.status_code == 200 and "Signed In Person" in home.text
    assert browser.post("/signout", data={"csrf_token": csrf_of(home.text)}).status_code == 303
    assert browser.get("/").status_code == 303
    # The old cookie value is worthless once signed out: the session is gone from the server.
    with TestClient(browser.app, follow_redirects=False, cookies={"vigil_session": stolen}) as replay:
        assert replay.get("/").status_code == 303


def test_wrong_key_forged_cookie_and_missing_sign_in_token_are_refused(browser, api, box):
    wrong = sign_in(browser, "not-a-key")
    assert wrong.status_code == 401 and "not valid" in wrong.text and "vigil_session" not in browser.cookies
    no_token = browser.post("/signin", data={"api_key": ADMIN_KEY, "timezone": "UTC", "next": "/"})
    assert no_token.status_code == 403 and "vigil_session" not in browser.cookies
    assert sign_in(browser, ADMIN_KEY).status_code == 303
    token, _, signature = browser.cookies.get("vigil_session").rpartition(".")
    with TestClient(browser.app, follow_redirects=False, cookies={"vigil_session": token + ".x" + signature}) as c:
        assert c.get("/").status_code == 303


def test_revoking_a_key_ends_its_sessions(browser, box):
    key = KeyService(box.engine, box.clock).create("editor", "lyon", "soon revoked")
    sign_in(browser, key)
    assert browser.get("/").status_code == 200
    key_id = next(k["id"] for k in box.keys.list() if k["name"] == "soon revoked")
    box.keys.revoke(key_id)
    after = browser.get("/")
    assert after.status_code == 303 and after.headers["location"].startswith("/signin")


def test_the_sign_in_page_shows_no_text_from_the_url(browser):
    page = browser.get("/signin", params={"error": "Email your key to evil@example.org", "status": "500"})
    assert page.status_code == 200 and "evil@example.org" not in page.text


def test_next_never_leaves_the_site(browser):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert sign_in(browser, ADMIN_KEY, next_path=target).headers["location"] == "/"


def test_a_bearer_key_also_opens_pages(api):
    page = api.get("/")
    assert page.status_code == 200 and '<ol class="cases">' in page.text  # the case list, not the sign-in form


def test_sessions_expire(browser, clock):
    sign_in(browser, ADMIN_KEY)
    clock.advance(timedelta(hours=12, minutes=1))
    expired = browser.get("/")
    assert expired.status_code == 303 and expired.headers["location"].startswith("/signin")


# ---- security headers and markup ----
def test_security_headers_on_pages(browser):
    response = browser.get("/signin")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_templates_have_no_inline_script_no_handlers_and_no_outside_assets():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert not re.search(r"(src|href)=\"https?://", text), template  # no CDN, fonts or trackers


# ---- case list ----
def test_case_list_most_urgent_first_with_countdown_and_filters(browser, api, box):
    calm = open_case(api, name="Calm Person", country="DE", origin="RU", tags=("monitoring",))
    urgent = open_case(api, name="Urgent Person", country="TR", origin="UZ", tags=("extradition",))
    append(api, urgent, "Detained", {"place": "Istanbul removal centre"})
    append(api, urgent, "RemovalScheduled", {"at": (NOW + timedelta(hours=31, minutes=20)).isoformat(),
                                             "destination": "UZ"})
    append(api, urgent, "InterimMeasureGranted", {"body": "ECtHR"})
    sign_in(browser, ADMIN_KEY)
    page = browser.get("/").text
    assert page.index("Urgent Person") < page.index("Calm Person")
    assert re.search(r'removal <span data-countdown="[^"]+">in 31 h</span>', page)
    assert "Istanbul removal centre" in page and "ECtHR" in page
    assert "Removal scheduled" in page
    only = lambda **params: browser.get("/", params=params).text  # noqa: E731
    assert "Calm Person" not in only(status="removal_scheduled") and "Urgent Person" in only(status="removal_scheduled")
    assert "Urgent Person" not in only(country="de") and "Calm Person" in only(country="de")
    assert "Urgent Person" not in only(tag="monitoring")
    assert "Calm Person" not in only(q="urgent")
    risk = api.get(f"/v1/cases/{urgent}").json()["risk"]["level"]
    assert "Calm Person" not in only(risk=risk) and "Urgent Person" in only(risk=risk)
    assert calm
    with box.engine.connect() as conn:
        assert conn.execute(select(access_log.c.action).where(access_log.c.path == "/")).scalars().all()


# ---- case page ----
def test_case_page_shows_headline_dates_and_timeline_with_retractions_sources_and_alerts(browser, api):
    case_id = open_case(api, name="Timeline Person")
    hearing = append(api, case_id, "HearingScheduled", {"court": "Ankara 3rd Court", "kind": "extradition",
                                                        "at": (NOW + timedelta(days=4, hours=1)).isoformat()},
                     source={"url": "https://example.org/ruling", "title": "Court listing"})
    wrong = append(api, case_id, "Detained", {"place": "Wrong place"})
    append(api, case_id, "EventRetracted", {"event_id": wrong["event_id"], "reason": "misreported by a relative"})
    append(api, case_id, "ExtraditionRequested", {"requesting_state": "UZ"})
    sign_in(browser, ADMIN_KEY, timezone_name="Europe/Istanbul")
    page = browser.get(f"/cases/{case_id}")
    html = page.text
    assert page.status_code == 200
    assert "<h1>\n    Timeline Person" in html or "Timeline Person" in html.split("<h1>")[1].split("</h1>")[0]
    assert "In proceedings" in html
    assert "Ankara 3rd Court" in html and "in 4 d" in html
    assert re.search(r'<li id="event-\d+" class="event retracted">', html)
    assert "misreported by a relative" in html
    assert '<a href="https://example.org/ruling" rel="noreferrer noopener" target="_blank">Court listing</a>' in html
    assert "by bootstrap admin (admin, admin)" in html  # the key's name, not its id
    assert "+03" in html  # Europe/Istanbul is UTC+3 all year: times shown in the viewer's zone
    # The extradition request raised a high alert: it shows under its event, with an acknowledge button.
    assert "Alert:" in html and "Acknowledge" in html
    assert hearing


def test_viewer_sees_no_name_and_no_forms_and_may_not_post(browser, api, box):
    case_id = open_case(api, name="Hidden Name", teams=["lyon"])
    append(api, case_id, "ExtraditionRequested", {"requesting_state": "UZ"})
    key = KeyService(box.engine, box.clock).create("viewer", "lyon", "lyon viewer")
    sign_in(browser, key)
    page = browser.get(f"/cases/{case_id}").text
    assert "Hidden Name" not in page and "not shown to the viewer role" in page
    assert "Record an event" not in page and "Acknowledge" not in page
    assert "Hidden Name" not in browser.get("/").text
    csrf = csrf_of(page)
    refused = browser.post(f"/cases/{case_id}/events", data={"csrf_token": csrf, "type": "NoteAdded",
                                                             "occurred_at": "2026-01-01T10:00", "text": "x"})
    assert refused.status_code == 403 and len(events_of(api, case_id)) == 2
    alert = api.get("/v1/alerts", params={"case_id": case_id}).json()["items"][0]
    assert browser.post(f"/alerts/{alert['id']}/ack", data={"csrf_token": csrf}).status_code == 403


def test_viewers_may_post_no_form_at_all(browser, api, box):
    case_id = open_case(api, teams=["lyon"])
    append(api, case_id, "ExtraditionRequested", {"requesting_state": "UZ"})
    sub = api.post("/v1/subscriptions", json={"name": "hq", "channel": {"kind": "webhook",
                                                                       "url": "https://example.org/h"}}).json()
    alert = api.get("/v1/alerts", params={"case_id": case_id}).json()["items"][0]
    sign_in(browser, KeyService(box.engine, box.clock).create("viewer", "admin", "hq viewer"))
    csrf = csrf_of(browser.get("/").text)
    for path in (f"/cases/{case_id}/events", f"/alerts/{alert['id']}/ack", "/subscriptions",
                 f"/subscriptions/{sub['id']}/test", f"/subscriptions/{sub['id']}/delete",
                 "/deliveries/any/retry"):
        response = browser.post(path, data={"csrf_token": csrf, "type": "NoteAdded", "text": "x",
                                            "occurred_at": "2026-01-01T10:00", "name": "x"})
        assert response.status_code == 403, path
        assert "may read but not change" in response.text
    assert len(api.get("/v1/subscriptions").json()["items"]) == 1
    assert api.get("/v1/alerts", params={"case_id": case_id}).json()["items"][0]["state"] == "open"


def test_other_teams_case_is_not_found(browser, api, box):
    case_id = open_case(api, name="Oslo Person", teams=["oslo"])
    sign_in(browser, KeyService(box.engine, box.clock).create("editor", "lyon", "lyon editor"))
    response = browser.get(f"/cases/{case_id}")
    assert response.status_code == 404 and "Oslo Person" not in response.text
    assert "Oslo Person" not in browser.get("/").text
    assert browser.get(f"/cases/{case_id}/dossier").status_code == 404


def test_as_of_shows_the_case_as_it_stood_that_day(browser, api):
    case_id = open_case(api, name="As Of Person")
    append(api, case_id, "Detained", {"place": "Kumkapi"}, occurred_at=NOW - timedelta(days=10))
    append(api, case_id, "Released", {}, occurred_at=NOW - timedelta(days=2))
    sign_in(browser, ADMIN_KEY)
    now_page = browser.get(f"/cases/{case_id}").text
    assert "Not detained" in now_page
    day = (NOW - timedelta(days=5)).date().isoformat()
    then = browser.get(f"/cases/{case_id}", params={"as_of": day}).text
    assert "<strong>Detained</strong> at Kumkapi" in then and "1 later event hidden" in then
    assert "Record an event" not in then
    bad = browser.get(f"/cases/{case_id}", params={"as_of": "yesterday"})
    assert bad.status_code == 200 and "could not be read" in bad.text


# ---- appending through the form ----
def test_append_form_records_the_event_in_the_viewers_zone_and_changes_the_status(browser, api):
    case_id = open_case(api, name="Form Person")
    sign_in(browser, ADMIN_KEY, timezone_name="Europe/Paris")
    chosen = browser.get(f"/cases/{case_id}", params={"type": "RemovalScheduled"}).text
    assert 'name="destination"' in chosen and 'name="window_start"' in chosen and 'type="datetime-local"' in chosen
    local = datetime.fromisoformat("2026-12-01T06:30")  # a winter date: Paris is UTC+1
    response = browser.post(f"/cases/{case_id}/events", data={
        "csrf_token": csrf_of(chosen), "type": "RemovalScheduled", "occurred_at": "2026-11-20T09:00",
        "date_precision": "exact", "at": local.strftime("%Y-%m-%dT%H:%M"), "destination": "uz",
        "route": "IST-TAS", "source_url": "https://example.org/notice", "source_title": "Notice"})
    assert response.status_code == 303 and response.headers["location"].endswith("appended=RemovalScheduled")
    last = events_of(api, case_id)[-1]
    assert last["type"] == "RemovalScheduled" and last["data"]["destination"] == "UZ"
    utc = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    assert utc(last["data"]["at"]) == datetime(2026, 12, 1, 5, 30, tzinfo=timezone.utc)  # 06:30 in Paris
    assert utc(last["occurred_at"]) == datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    assert last["source"] == {"url": "https://example.org/notice", "title": "Notice"}
    assert api.get(f"/v1/cases/{case_id}").json()["status"] == "removal_scheduled"
    after = browser.get(response.headers["location"]).text
    assert "Recorded: Removal scheduled." in after and "Removal scheduled" in after


@pytest.mark.parametrize("fields, field, message", [
    ({"destination": ""}, "destination", "This is required"),
    ({"destination": "Uzbekistan"}, "destination", "Use a two-letter country code such as FR"),
    ({"destination": "UZ", "at": "not a time"}, "at", "not a date and time"),
    ({"destination": "", "at": "not a time"}, "destination", "This is required"),  # all errors at once
    ({"destination": "UZ", "at": ""}, "__all__", "at, or both window_start and window_end, is required"),
    ({"destination": "UZ", "at": "2026-12-01T06:30", "occurred_at": ""}, "occurred_at", "required"),
    ({"destination": "UZ", "at": "2026-12-01T06:30", "source_url": "ftp://x"}, "source_url",
     "Use a link starting with http:// or https://"),
])
def test_append_form_shows_errors_beside_the_field_and_records_nothing(browser, api, fields, field, message):
    case_id = open_case(api)
    sign_in(browser, ADMIN_KEY)
    page = browser.get(f"/cases/{case_id}", params={"type": "RemovalScheduled"}).text
    data = {"csrf_token": csrf_of(page), "type": "RemovalScheduled", "occurred_at": "2026-11-20T09:00",
            "route": "kept value", **fields}
    response = browser.post(f"/cases/{case_id}/events", data=data)
    assert response.status_code == 422
    if field == "__all__":
        assert f'<p class="error" role="alert">{message}' in response.text
    else:
        error = re.search(rf'<span class="field-error" id="err-{field}">([^<]*)</span>', response.text)
        assert error and message in error.group(1), response.text[-3000:]
        assert f'aria-describedby="err-{field}"' in response.text
    assert 'value="kept value"' in response.text  # what the user typed is kept
    assert len(events_of(api, case_id)) == 1


def test_retracting_through_the_form_offers_the_cases_events(browser, api):
    case_id = open_case(api)
    wrong = append(api, case_id, "Detained", {"place": "Wrong"})
    sign_in(browser, ADMIN_KEY)
    page = browser.get(f"/cases/{case_id}", params={"type": "EventRetracted"}).text
    assert f'<option value="{wrong["event_id"]}"' in page
    done = browser.post(f"/cases/{case_id}/events", data={
        "csrf_token": csrf_of(page), "type": "EventRetracted", "occurred_at": "2026-11-20T09:00",
        "event_id": wrong["event_id"], "reason": "wrong person"})
    assert done.status_code == 303
    assert api.get(f"/v1/cases/{case_id}").json()["detained"] is False


def test_forms_without_the_csrf_token_change_nothing(browser, api):
    case_id = open_case(api)
    sign_in(browser, ADMIN_KEY)
    for path, data in ((f"/cases/{case_id}/events", {"type": "NoteAdded", "occurred_at": "2026-01-01T10:00",
                                                     "text": "forged"}),
                       ("/subscriptions", {"name": "forged", "channel_kind": "webhook",
                                           "url": "https://example.org/h"}),
                       ("/signout", {})):
        assert browser.post(path, data=data).status_code == 403
        assert browser.post(path, data={**data, "csrf_token": "wrong"}).status_code == 403
    assert len(events_of(api, case_id)) == 1 and api.get("/v1/subscriptions").json()["items"] == []
    assert browser.get("/").status_code == 200  # still signed in: the forged sign-out did nothing


# ---- alerts inbox ----
def test_alert_inbox_most_severe_first_and_acknowledges(browser, api):
    api.post("/v1/subscriptions", json={"name": "all", "channel": {"kind": "webhook", "url": "https://example.org/h"},
                                        "filter": {"min_severity": "info"}})
    case_id = open_case(api, name="Inbox Person")
    append(api, case_id, "ExtraditionRequested", {"requesting_state": "UZ"})
    append(api, case_id, "NoteAdded", {"text": "minor"})  # info, newer
    sign_in(browser, ADMIN_KEY)
    inbox = browser.get("/alerts").text
    assert "Acknowledge" in inbox
    assert inbox.index("Extradition requested by UZ") < inbox.index("Note added")
    alert = api.get("/v1/alerts", params={"case_id": case_id, "severity": "high"}).json()["items"][0]
    done = browser.post(f"/alerts/{alert['id']}/ack", data={"csrf_token": csrf_of(inbox), "next": "/alerts"})
    assert done.status_code == 303 and done.headers["location"] == "/alerts"
    acknowledged = api.get("/v1/alerts", params={"case_id": case_id, "severity": "high"}).json()["items"][0]
    assert acknowledged["state"] == "acknowledged" and acknowledged["acknowledged_by"].startswith("key:")
    assert alert["title"] not in browser.get("/alerts").text
    assert alert["title"] in browser.get("/alerts", params={"state": "acknowledged"}).text
    assert browser.post("/alerts/no-such-alert/ack", data={"csrf_token": csrf_of(inbox)}).status_code == 404


def test_inbox_groups_by_case_shows_the_events_own_date_and_filters(browser, api):
    first = open_case(api, name="Grouped First")
    second = open_case(api, name="Grouped Second")
    append(api, first, "ExtraditionRequested", {"requesting_state": "UZ"})  # high
    append(api, second, "Removed", {"method": "deported", "destination": "UZ"},
           occurred_at=NOW - timedelta(days=2))  # critical
    append(api, first, "WhereaboutsUnknown", {})  # critical, newer
    append(api, second, "DetainedOnReturn", {})  # critical
    sign_in(browser, ADMIN_KEY)
    inbox = browser.get("/alerts").text
    assert inbox.count('class="alert-group"') == 2
    # One heading per case, its alerts beneath it: both of the first case's alerts come before the second's.
    assert inbox.count("Grouped First</a></h2>") == 1 and inbox.count("Grouped Second</a></h2>") == 1
    group_of = {name: inbox.index(f"{name}</a></h2>") for name in ("Grouped First", "Grouped Second")}
    later, earlier = sorted(group_of.values(), reverse=True)
    first_part = inbox[:later]
    assert first_part.count('class="alert-item') == 2
    # The event's own date beside the time raised: the removal happened two days ago.
    happened = (NOW - timedelta(days=2)).isoformat().replace("+00:00", "")
    assert re.search(r'happened <time datetime="' + re.escape(happened), inbox), inbox
    only_high = browser.get("/alerts", params={"severity": "high"}).text
    assert "Extradition requested by UZ" in only_high and "Removed (deported)" not in only_high
    assert "Grouped Second" not in only_high
    assert browser.get("/alerts", params={"severity": "bogus"}).status_code == 200  # unknown: any severity


def test_bulk_acknowledge_with_a_confirmation_a_case_at_once_and_state_all(browser, api):
    first = open_case(api, name="Bulk First")
    second = open_case(api, name="Bulk Second")
    append(api, first, "ExtraditionRequested", {"requesting_state": "UZ"})
    append(api, first, "WhereaboutsUnknown", {})
    append(api, second, "WhereaboutsUnknown", {})
    ids = {case: [a["id"] for a in api.get("/v1/alerts", params={"case_id": case}).json()["items"]]
           for case in (first, second)}
    sign_in(browser, ADMIN_KEY)
    inbox = browser.get("/alerts").text
    csrf = csrf_of(inbox)
    assert inbox.count('type="checkbox" name="ids"') == 3 and 'name="case" value="' + first + '"' in inbox
    # Without the token: refused, as every other form.
    assert browser.post("/alerts/ack", data={"ids": ids[first][0], "confirm": "yes"}).status_code == 403
    # Ticking one alert of each case asks first, listing exactly those two, and acknowledges nothing yet.
    picked = [ids[first][0], ids[second][0]]
    asked = browser.post("/alerts/ack", data={"csrf_token": csrf, "next": "/alerts", "selected": "1", "ids": picked})
    assert asked.status_code == 200 and "Acknowledge 2 alerts?" in asked.text
    assert sorted(re.findall(r'name="ids" value="([^"]+)"', asked.text)) == sorted(picked)
    assert {a["state"] for a in api.get("/v1/alerts").json()["items"]} == {"open"}
    done = browser.post("/alerts/ack", data={"csrf_token": csrf_of(asked.text), "next": "/alerts?state=open",
                                             "confirm": "yes", "ids": picked})
    assert done.status_code == 303 and done.headers["location"] == "/alerts?state=open"
    states = {a["id"]: a["state"] for a in api.get("/v1/alerts", params={"state": "all"}).json()["items"]}
    assert [states[i] for i in picked] == ["acknowledged", "acknowledged"] and states[ids[first][1]] == "open"
    # "All of this case" confirms the case's open alerts only (the one left), then acknowledges them.
    asked = browser.post("/alerts/ack", data={"csrf_token": csrf, "next": "/alerts", "case": first})
    assert re.findall(r'name="ids" value="([^"]+)"', asked.text) == [ids[first][1]]
    browser.post("/alerts/ack", data={"csrf_token": csrf, "confirm": "yes", "ids": [ids[first][1]]})
    assert api.get("/v1/alerts", params={"state": "open"}).json()["items"] == []
    every = browser.get("/alerts", params={"state": "all"}).text
    assert every.count('class="alert-item') == 3 and every.count("acknowledged</span> by") == 3
    # Nothing ticked: said plainly, nothing done.
    nothing = browser.post("/alerts/ack", data={"csrf_token": csrf, "selected": "1"})
    assert nothing.status_code == 422 and "Nothing to acknowledge" in nothing.text


def test_bulk_acknowledge_in_the_dashboard_stays_within_the_team(browser, api, box):
    ours = open_case(api, name="Our Case", teams=["alpha"])
    theirs = open_case(api, name="Their Case", teams=["beta"])
    for case in (ours, theirs):
        append(api, case, "WhereaboutsUnknown", {})
    our_id, their_id = (api.get("/v1/alerts", params={"case_id": c}).json()["items"][0]["id"] for c in (ours, theirs))
    sign_in(browser, KeyService(box.engine, box.clock).create("editor", "alpha", "alpha editor"))
    inbox = browser.get("/alerts").text
    assert "Their Case" not in inbox and "Our Case" in inbox
    csrf = csrf_of(inbox)
    asked = browser.post("/alerts/ack", data={"csrf_token": csrf, "ids": [our_id, their_id], "selected": "1"})
    assert re.findall(r'name="ids" value="([^"]+)"', asked.text) == [our_id] and "Their Case" not in asked.text
    assert browser.post("/alerts/ack", data={"csrf_token": csrf, "case": theirs}).status_code == 422
    refused = browser.post("/alerts/ack", data={"csrf_token": csrf, "confirm": "yes", "ids": [our_id, their_id]})
    assert refused.status_code == 404
    assert {a["state"] for a in api.get("/v1/alerts").json()["items"]} == {"open"}


# ---- subscriptions ----
def test_subscriptions_create_test_see_deliveries_and_replay_a_dead_one(browser, api, box, receiver):
    sign_in(browser, ADMIN_KEY)
    page = browser.get("/subscriptions").text
    created = browser.post("/subscriptions", data={
        "csrf_token": csrf_of(page), "name": "Night desk", "channel_kind": "webhook", "url": receiver.url("/hook"),
        "min_severity": "high", "countries": "uz, tm", "event_types": ["Removed", "ExtraditionRequested"],
        "reminders": "pt48h, PT2H"})
    assert created.status_code == 201 and "whsec_" in created.text
    [sub] = api.get("/v1/subscriptions").json()["items"]
    assert sub["filter"]["countries"] == ["UZ", "TM"] and sub["reminders"] == ["PT48H", "PT2H"]
    assert sub["filter"]["event_types"] == ["Removed", "ExtraditionRequested"]
    assert "whsec_" not in browser.get(f"/subscriptions/{sub['id']}").text  # the secret is shown once only
    detail = browser.get(f"/subscriptions/{sub['id']}").text
    assert browser.post(f"/subscriptions/{sub['id']}/test", data={"csrf_token": csrf_of(detail)}).status_code == 303
    assert receiver.at("/hook") and "delivered" in browser.get(f"/subscriptions/{sub['id']}").text
    # An alert that reached the subscription shows on the case's timeline, with whom it reached.
    case_id = open_case(api, name="Reached Person")
    append(api, case_id, "ExtraditionRequested", {"requesting_state": "UZ"})
    drain(box)
    assert re.search(r"Night desk \(webhook\): <span class=\"state-delivered\">delivered", browser.get(
        f"/cases/{case_id}").text)
    # A delivery that died (the worker gave up) is listed as failing and can be replayed from the page.
    with box.engine.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.alert_id.is_not(None)).values(
            state="dead", last_error="HTTP 503"))
    listing = browser.get("/subscriptions").text
    assert "Deliveries failing now" in listing and "HTTP 503" in listing
    dead = api.get("/v1/deliveries", params={"state": "dead"}).json()["items"][0]
    replay = browser.post(f"/deliveries/{dead['id']}/retry", data={"csrf_token": csrf_of(listing),
                                                                  "next": f"/subscriptions/{sub['id']}"})
    assert replay.status_code == 303 and replay.headers["location"] == f"/subscriptions/{sub['id']}"
    assert api.get(f"/v1/deliveries/{dead['id']}").json()["state"] == "pending"
    again = browser.post(f"/deliveries/{dead['id']}/retry", data={"csrf_token": csrf_of(listing)})
    assert again.status_code == 409
    gone = browser.post(f"/subscriptions/{sub['id']}/delete", data={"csrf_token": csrf_of(listing)})
    assert gone.status_code == 303 and api.get("/v1/subscriptions").json()["items"] == []


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"),
    ({"url": "ftp://example.org"}, "url"),
    ({"countries": "Uzbekistan"}, "countries"),
    ({"reminders": "two days"}, "reminders"),
    ({"escalate_after": "PT1H", "escalate_kind": "email", "escalate_to": "not-an-address"}, "escalate_to"),
    ({"channel_kind": "email", "to": "nobody"}, "to"),
])
def test_subscription_form_errors_name_the_field(browser, api, fields, field):
    sign_in(browser, ADMIN_KEY)
    page = browser.get("/subscriptions").text
    data = {"csrf_token": csrf_of(page), "name": "Desk", "channel_kind": "webhook",
            "url": "https://example.org/hook", **fields}
    response = browser.post("/subscriptions", data=data)
    assert response.status_code == 422
    assert re.search(rf'<span class="field-error" id="err-{field}">[^<]+</span>', response.text), field
    assert api.get("/v1/subscriptions").json()["items"] == []


@pytest.mark.parametrize("fields, field", [
    ({"channel_kind": "email", "to": "desk@ngo.example"}, "channel_kind"),
    ({"escalate_after": "PT1H", "escalate_kind": "email", "escalate_to": "desk@ngo.example"}, "escalate_kind"),
])
def test_email_without_an_smtp_server_is_refused_beside_the_field(browser, api, fields, field):
    sign_in(browser, ADMIN_KEY)
    page = browser.get("/subscriptions").text
    data = {"csrf_token": csrf_of(page), "name": "Desk", "channel_kind": "webhook",
            "url": "https://example.org/hook", **fields}
    response = browser.post("/subscriptions", data=data)
    assert response.status_code == 422
    assert f'<span class="field-error" id="err-{field}">email needs VIGIL_SMTP_HOST set</span>' in response.text
    assert api.get("/v1/subscriptions").json()["items"] == []


def test_a_webhook_may_opt_in_to_log_checkpoints_and_another_channel_is_told_beside_the_field(browser, api):
    sign_in(browser, ADMIN_KEY)
    page = browser.get("/subscriptions").text
    assert re.search(r'data-for-kinds="webhook"><input id="s-ckpt" name="log_checkpoints"', page)
    refused = browser.post("/subscriptions", data={"csrf_token": csrf_of(page), "name": "Desk",
                                                   "channel_kind": "email", "to": "desk@ngo.example",
                                                   "log_checkpoints": "on"})
    assert refused.status_code == 422 and api.get("/v1/subscriptions").json()["items"] == []
    assert re.search(r'<span class="field-error" id="err-log_checkpoints">[^<]*webhook[^<]*</span>', refused.text)
    assert 'data-for-kinds="webhook"><input id="s-ckpt"' not in refused.text  # shown whatever kind is chosen
    created = browser.post("/subscriptions", data={"csrf_token": csrf_of(page), "name": "Keeper",
                                                   "channel_kind": "webhook", "url": "https://example.org/hook",
                                                   "log_checkpoints": "on"})
    assert created.status_code == 201
    [sub] = api.get("/v1/subscriptions").json()["items"]
    assert sub["log_checkpoints"] is True
    assert "<dt>Log checkpoints</dt><dd>yes</dd>" in browser.get(f"/subscriptions/{sub['id']}").text


SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TELEGRAM_SECRET = "tg-webhook-secret_0123456789"


def test_chat_buttons_secrets_are_typed_in_the_form_kept_and_never_shown_back(browser, api, box):
    """Slack's signing secret and Telegram's webhook secret: optional password inputs, for the channel and (Slack)
    the escalation, stored sealed with the subscription and never on any page, not even after a refusal."""
    sign_in(browser, ADMIN_KEY)
    page = browser.get("/subscriptions").text
    for name, kinds in (("signing_secret", "slack"), ("webhook_secret", "telegram")):
        assert re.search(rf'data-for-kinds="{kinds}"><label for="[^"]+">[^<]+</label>\s*<input id="[^"]+" '
                         rf'name="{name}" type="password" autocomplete="off">', page), name
    assert 'name="escalate_signing_secret" type="password"' in page
    # Slack stays an escalation choice beside its new optional input (a kind's optional secrets are not
    # inputs the escalation lacks).
    assert re.findall(r'<option value="([a-z]+)" >', page.split('name="escalate_kind"')[1].split("</select>")[0]) \
        == ["email", "webhook", "slack", "mattermost", "teams", "discord"]
    slack = browser.post("/subscriptions", data={
        "csrf_token": csrf_of(page), "name": "Slack desk", "channel_kind": "slack",
        "url": "https://hooks.slack.com/services/T0/B0/xyz", "signing_secret": f" {SLACK_SECRET} ",
        "escalate_after": "PT30M", "escalate_kind": "slack", "escalate_url": "https://hooks.slack.com/services/T0/B1/e",
        "escalate_signing_secret": SLACK_SECRET + "e"})
    telegram = browser.post("/subscriptions", data={
        "csrf_token": csrf_of(page), "name": "Telegram desk", "channel_kind": "telegram",
        "bot_token": "123456:ABCdef", "chat_id": "-1001234567890", "webhook_secret": TELEGRAM_SECRET})
    plain = browser.post("/subscriptions", data={  # left empty: no secret, no button, no error
        "csrf_token": csrf_of(page), "name": "Plain Slack", "channel_kind": "slack",
        "url": "https://hooks.slack.com/services/T0/B2/abc", "signing_secret": "", "webhook_secret": ""})
    assert (slack.status_code, telegram.status_code, plain.status_code) == (201, 201, 201), slack.text
    subs = {s["name"]: s for s in api.get("/v1/subscriptions").json()["items"]}
    channels = {name: box.subscriptions.with_channels(sub["id"])[1] for name, sub in subs.items()}
    assert [(c.kind, c.signing_secret) for c in channels["Slack desk"]] == [("slack", SLACK_SECRET),
                                                                           ("slack", SLACK_SECRET + "e")]
    assert [(c.kind, c.webhook_secret) for c in channels["Telegram desk"]] == [("telegram", TELEGRAM_SECRET)]
    assert channels["Plain Slack"][0].signing_secret is None
    shown = [slack.text, telegram.text, plain.text, browser.get("/subscriptions").text,
             *(browser.get(f"/subscriptions/{sub['id']}").text for sub in subs.values()),
             api.get("/v1/subscriptions").text]
    assert not [text for text in shown if SLACK_SECRET in text or TELEGRAM_SECRET in text]


@pytest.mark.parametrize("fields, field", [
    ({"channel_kind": "telegram", "bot_token": "123456:ABCdef", "chat_id": "-100123", "webhook_secret": "short"},
     "webhook_secret"),
    ({"channel_kind": "slack", "url": "https://hooks.slack.com/services/T/B/x", "signing_secret": "two words"},
     "signing_secret"),
    ({"escalate_after": "PT1H", "escalate_kind": "slack", "escalate_url": "https://hooks.slack.com/services/T/B/x",
      "escalate_signing_secret": "bad\tsecret"}, "escalate_signing_secret"),
])
def test_a_refused_chat_secret_is_named_beside_its_field_and_not_echoed(browser, api, fields, field):
    sign_in(browser, ADMIN_KEY)
    page = browser.get("/subscriptions").text
    response = browser.post("/subscriptions", data={"csrf_token": csrf_of(page), "name": "Desk",
                                                    "channel_kind": "webhook", "url": "https://example.org/hook",
                                                    **fields})
    assert response.status_code == 422
    said = re.search(rf'<span class="field-error" id="err-{field}">([^<]+)</span>', response.text)
    assert said and said.group(1) in ("Use 16 to 256 letters, digits, &#39;_&#39; or &#39;-&#39;",
                                      "Use no spaces or control characters"), said and said.group(1)
    assert f'name="{field}" type="password" autocomplete="off" aria-invalid="true"' in response.text
    assert "short" not in response.text.split("<main")[1] and "two words" not in response.text
    assert api.get("/v1/subscriptions").json()["items"] == []


def test_only_admins_may_put_names_in_messages_and_viewers_get_no_form(browser, box, api):
    sign_in(browser, KeyService(box.engine, box.clock).create("editor", "lyon", "lyon editor"))
    page = browser.get("/subscriptions").text
    assert 'name="include_personal_data"' not in page
    forced = browser.post("/subscriptions", data={"csrf_token": csrf_of(page), "name": "Desk",
                                                  "channel_kind": "webhook", "url": "https://example.org/h",
                                                  "include_personal_data": "on"})
    assert forced.status_code == 422 and "only an admin" in forced.text
    with TestClient(browser.app, follow_redirects=False) as other:
        sign_in(other, KeyService(box.engine, box.clock).create("viewer", "lyon", "lyon viewer"))
        assert "New subscription" not in other.get("/subscriptions").text


def test_other_teams_subscription_is_not_found(browser, api, box):
    sub = api.post("/v1/subscriptions", json={"name": "hq", "channel": {"kind": "webhook",
                                                                       "url": "https://example.org/h"}}).json()
    sign_in(browser, KeyService(box.engine, box.clock).create("editor", "lyon", "lyon editor"))
    assert browser.get(f"/subscriptions/{sub['id']}").status_code == 404
    page = browser.get("/subscriptions").text
    assert browser.post(f"/subscriptions/{sub['id']}/delete", data={"csrf_token": csrf_of(page)}).status_code == 404
    assert api.get(f"/v1/subscriptions/{sub['id']}").status_code == 200  # still there: nothing was deleted


# ---- dossier and settings ----
def test_dossier_is_printable_html_with_alerts_and_is_logged(browser, api, box):
    case_id = open_case(api, name="Dossier Person")
    append(api, case_id, "ExtraditionRequested", {"requesting_state": "UZ"})
    sign_in(browser, ADMIN_KEY)
    dossier = browser.get(f"/cases/{case_id}/dossier")
    assert dossier.status_code == 200 and "Dossier Person" in dossier.text and "verified" in dossier.text
    assert "Extradition requested" in dossier.text or "ExtraditionRequested" in dossier.text
    assert "Alerts" in dossier.text
    with box.engine.connect() as conn:
        actions = conn.execute(select(access_log.c.action).where(access_log.c.case_id == case_id)).scalars().all()
    assert "export" in actions


def test_changing_the_time_zone(browser, api):
    case_id = open_case(api)
    append(api, case_id, "NoteAdded", {"text": "note"}, occurred_at=datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    sign_in(browser, ADMIN_KEY)
    page = browser.get(f"/cases/{case_id}").text
    assert "2026-07-01 12:00 UTC" in page
    assert 'value="Asia/Tashkent"' in browser.get("/settings").text
    moved = browser.post("/settings/timezone", data={"csrf_token": csrf_of(page), "timezone": "Asia/Tashkent",
                                                     "next": f"/cases/{case_id}"})
    assert moved.status_code == 303
    assert "2026-07-01 17:00 +05" in browser.get(f"/cases/{case_id}").text
    assert browser.post("/settings/timezone", data={"csrf_token": csrf_of(page), "timezone": "Mars/Base"}
                        ).status_code == 422


def test_static_assets_are_served(browser):
    assert browser.get("/static/vigil.css").status_code == 200
    assert "addEventListener" in browser.get("/static/vigil.js").text


def test_opening_a_case_through_the_form(browser, api, box):
    sign_in(browser, KeyService(box.engine, box.clock).create("editor", "lyon", "lyon editor"), timezone_name="Europe/Paris")
    form = browser.get("/cases/new").text
    bad = browser.post("/cases/new", data={"csrf_token": csrf_of(form), "name": "", "country": "France",
                                           "birth_year": "1990s", "tags": "Bad Tag"})
    assert bad.status_code == 422
    for field in ("person-name", "country", "person-birth_year"):
        assert f'id="err-{field}"' in bad.text, field
    assert api.get("/v1/cases").json()["items"] == []
    bad = browser.post("/cases/new", data={"csrf_token": csrf_of(form), "name": "New Person", "country": "fr",
                                           "tags": "Bad Tag"})
    assert bad.status_code == 422 and 'id="err-tags"' in bad.text and 'value="New Person"' in bad.text
    done = browser.post("/cases/new", data={
        "csrf_token": csrf_of(form), "name": "New Person", "aliases": "N. Person\nNeu Person", "birth_year": "1990",
        "nationality": "uz", "country": "fr", "origin_country": "uz", "tags": "deportation, ecthr",
        "summary": "Fled in 2019.", "timezone": "Europe/Paris", "occurred_at": "2026-11-01T10:00",
        "date_precision": "day"})
    assert done.status_code == 303
    case_id = done.headers["location"].split("/cases/")[1].split("?")[0]
    case = api.get(f"/v1/cases/{case_id}").json()
    assert case["person"] == {"name": "New Person", "aliases": ["N. Person", "Neu Person"], "birth_year": 1990,
                              "nationality": "UZ"}
    assert case["country"] == "FR" and case["origin_country"] == "UZ" and case["tags"] == ["deportation", "ecthr"]
    assert case["teams"] == ["lyon"] and case["timezone"] == "Europe/Paris"
    opened = events_of(api, case_id)[0]
    # Known to the day: the date as written (in Paris), no time of day kept.
    assert opened["occurred_at"] == "2026-11-01T00:00:00.000000Z" and opened["date_precision"] == "day"
    opened_page = browser.get(done.headers["location"]).text
    assert "Case opened." in opened_page and "born 1990 · nationality UZ" in opened_page


def test_viewers_cannot_open_cases(browser, box):
    sign_in(browser, KeyService(box.engine, box.clock).create("viewer", "lyon", "lyon viewer"))
    assert "Open a case" not in browser.get("/").text
    assert browser.get("/cases/new").status_code == 403


def test_hostile_input_gets_4xx_never_500(browser, api, box):
    case_id = open_case(api)
    odd_cookie = [(b"cookie", "vigil_session=abc.\u00e9".encode())]  # not ASCII: read by the server as latin-1
    assert browser.get("/", headers=odd_cookie).status_code == 303
    form = browser.get("/signin")
    assert browser.post("/signin", data={"api_key": ADMIN_KEY, "csrf_token": "\u00e9"}).status_code == 403
    for zone_name in ("America", "x" * 300, "posixrules"):
        signed = sign_in(browser, ADMIN_KEY, timezone_name=zone_name)
        assert signed.status_code == 303 and "times in UTC" in browser.get("/").text
        page = browser.get("/settings").text
        assert browser.post("/settings/timezone", data={"csrf_token": csrf_of(page), "timezone": zone_name}
                            ).status_code == 422
        assert browser.post("/cases/new", data={"csrf_token": csrf_of(page), "name": "X", "country": "FR",
                                                "timezone": zone_name}).status_code == 422
    page = browser.get(f"/cases/{case_id}").text
    assert browser.post("/cases/new", data={"csrf_token": csrf_of(page), "name": "X", "country": "FR",
                                            "birth_year": "\u00b2"}).status_code == 422
    assert browser.post(f"/cases/{case_id}/events", data={
        "csrf_token": csrf_of(page), "type": "PersonDetailsUpdated", "occurred_at": "2026-01-01T10:00",
        "person.birth_year": "9" * 5000}).status_code == 422
    crowded = "&".join(["a=1"] * 2001) + "&csrf_token=" + csrf_of(page)
    assert browser.post("/subscriptions", content=crowded,
                        headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413
    assert form.status_code == 200


def test_channel_urls_never_show_their_query_or_fragment(browser, api, box):
    for url in ("https://hooks.example.org?token=SUPERSECRET", "https://hooks.example.org:8443#SECRETFRAG",
                "https://hooks.example.org/services/T0/B0/SECRETPATH"):
        api.post("/v1/subscriptions", json={"name": "x", "channel": {"kind": "webhook", "url": url}})
    sign_in(browser, ADMIN_KEY)  # all-teams subscriptions are the admins' (a viewer of team "admin" sees none)
    page = browser.get("/subscriptions").text
    assert "SECRET" not in page and "https://hooks.example.org:8443/…" in page
    assert "SECRET" not in api.get("/v1/subscriptions").text


def test_other_teams_key_names_stay_anonymous(browser, api, box):
    case_id = open_case(api, teams=["lyon"])  # recorded by the admin key of team "admin"
    sign_in(browser, KeyService(box.engine, box.clock).create("editor", "lyon", "Lyon Editor Name"))
    page = browser.get(f"/cases/{case_id}").text
    assert "bootstrap admin" not in page and "a key of another team" in page
    done = browser.post(f"/cases/{case_id}/events", data={"csrf_token": csrf_of(page), "type": "NoteAdded",
                                                          "occurred_at": "2026-01-01T10:00", "text": "seen"})
    assert done.status_code == 303
    assert "Lyon Editor Name (editor, lyon)" in browser.get(f"/cases/{case_id}").text


# ---- issue 14: times, looking back, small traps ----
def test_the_event_form_preselects_no_required_choice_and_says_so_beside_the_field(browser, api):
    case_id = open_case(api, name="Choice Person")
    sign_in(browser, ADMIN_KEY)
    page = browser.get(f"/cases/{case_id}", params={"type": "InterimMeasureGranted"}).text
    select = re.search(r'<select id="f-body" name="body"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert select.lstrip().startswith('<option value="">choose…</option>') and "selected" not in select
    response = browser.post(f"/cases/{case_id}/events", data={
        "csrf_token": csrf_of(page), "type": "InterimMeasureGranted", "occurred_at": "2026-01-10T09:00"})
    assert response.status_code == 422
    error = re.search(r'<span class="field-error" id="err-body">([^<]*)</span>', response.text)
    assert error and error.group(1) == "This is required"
    assert len(events_of(api, case_id)) == 1


def test_the_timeline_names_what_a_retraction_retracts_and_dates_at_their_precision(browser, api):
    case_id = open_case(api, name="Retract Person")
    response = api.post(f"/v1/cases/{case_id}/events", json={"type": "Detained", "occurred_at": "2023-12-14",
                                                             "data": {"place": "Wrong"}})
    wrong = response.json()["event_id"]
    append(api, case_id, "EventRetracted", {"event_id": wrong, "reason": "wrong person"})
    sign_in(browser, ADMIN_KEY, timezone_name="America/Los_Angeles")
    page = browser.get(f"/cases/{case_id}").text
    assert '<dt>Retracts</dt><dd><a href="#event-2">Detained on 14 Dec 2023</a></dd>' in page
    assert wrong not in page.split('id="timeline-h"')[1].split("Record")[0].replace(f'value="{wrong}"', "")
    assert "2023-12-13" not in page and "14 Dec 2023</time>" in page  # the date as written, in any zone


def test_detention_reads_unknown_after_a_removal_and_as_of_hides_a_later_summary(browser, api):
    body = {"person": {"name": "Removed Person"}, "country": "FR", "occurred_at": "2023-10-01",
            "summary": "Deported on 15 Nov 2023."}
    case_id = api.post("/v1/cases", json=body).json()["id"]
    append(api, case_id, "Detained", {"place": "CRA"}, occurred_at=datetime(2023, 10, 20, tzinfo=timezone.utc))
    append(api, case_id, "Removed", {"method": "deported", "destination": "UZ"},
           occurred_at=datetime(2023, 11, 15, tzinfo=timezone.utc))
    append(api, case_id, "WhereaboutsUnknown", {}, occurred_at=datetime(2023, 11, 16, tzinfo=timezone.utc))
    sign_in(browser, ADMIN_KEY)
    now_page = browser.get(f"/cases/{case_id}").text
    assert "Not detained" not in now_page and "Unknown since the removal" in now_page
    assert "Deported on 15 Nov 2023." in now_page
    assert "Detention unknown" in browser.get("/").text
    then = browser.get(f"/cases/{case_id}", params={"as_of": "2023-11-01"}).text
    assert "<strong>Detained</strong> at CRA" in then and "Deported on 15 Nov 2023." not in then
    before = browser.get(f"/cases/{case_id}", params={"as_of": "2020-01-01"})
    assert before.status_code == 200 and "Nothing to show as of 2020-01-01" in before.text


def test_form_errors_are_plain_sentences_and_country_codes_any_case(browser, api):
    case_id = open_case(api, name="Country Person")
    sign_in(browser, ADMIN_KEY)
    page = browser.get(f"/cases/{case_id}", params={"type": "Resettled"}).text
    bad = browser.post(f"/cases/{case_id}/events", data={
        "csrf_token": csrf_of(page), "type": "Resettled", "occurred_at": "2026-01-10T09:00", "country": "Canada"})
    assert bad.status_code == 422 and "Use a two-letter country code such as FR" in bad.text
    assert "String should match" not in bad.text
    good = browser.post(f"/cases/{case_id}/events", data={
        "csrf_token": csrf_of(page), "type": "Resettled", "occurred_at": "2026-01-10T09:00", "country": "ca"})
    assert good.status_code == 303 and events_of(api, case_id)[-1]["data"]["country"] == "CA"


def test_a_passed_removal_shows_as_overdue_not_nothing_scheduled(browser, api):
    case_id = open_case(api, name="Overdue Person")
    append(api, case_id, "RemovalScheduled", {"at": (NOW - timedelta(hours=3)).isoformat(), "destination": "UZ"},
           occurred_at=NOW - timedelta(days=2))
    sign_in(browser, ADMIN_KEY)
    html = browser.get(f"/cases/{case_id}").text
    assert "Nothing scheduled" not in html
    assert re.search(r'<li class="overdue"><strong>Overdue, passed .*3 h ago.*</strong>: removal to UZ'
                     r'.*\(outcome not recorded\)', html)
    assert "removal date passed 3 h ago; outcome not recorded" in html
    listing = browser.get("/").text
    assert re.search(r'removal overdue, passed <span data-countdown="[^"]+">3 h ago</span>', listing)
