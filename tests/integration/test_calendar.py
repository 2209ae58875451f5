"""The secret calendar feed, through the API and the dashboard, on SQLite and PostgreSQL: parsed back with the
icalendar library."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from service.keys import KeyService

from ..conftest import ADMIN_KEY
from .helpers.cases import append
from .helpers.pages import csrf_of

NAME = "Calendar Person Alpha"
HEARING_AT = "2026-03-20T09:00:00Z"  # the clock starts at 2026-03-01 12:00 UTC


def as_(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keys(client, box):
    make = KeyService(box.engine, box.clock).create
    return {"alpha": make("editor", "alpha", "alpha editor"), "beta": make("editor", "beta", "beta editor"),
            "viewer": make("viewer", "alpha", "alpha viewer")}


def new_case(client, key, name=NAME, **extra) -> str:
    response = client.post("/v1/cases", headers=as_(key), json={"person": {"name": name}, "country": "FR", **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def dated(client, key, case_id, type_, data) -> str:
    response = append(client, case_id, type_, data, occurred_at="2026-03-01T10:00:00Z", headers=as_(key))
    assert response.status_code == 201, response.text
    return response.json()["event_id"]


def link(client, key, **body) -> str:
    response = client.post("/v1/calendar/links", headers=as_(key), **({"json": body} if body else {}))
    assert response.status_code == 201, response.text
    return urlsplit(response.json()["url"]).path


def fetch(client, path) -> Calendar:
    response = client.get(path, headers={"Authorization": ""})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    assert "no-store" in response.headers["cache-control"] and "private" in response.headers["cache-control"]
    return Calendar.from_ical(response.content)


def events_of(cal: Calendar) -> dict[str, object]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_a_moved_hearing_keeps_its_uid_with_the_new_time_and_a_higher_sequence(client, keys):
    case_id = new_case(client, keys["alpha"], timezone="Europe/Paris")
    hearing = dated(client, keys["alpha"], case_id, "HearingScheduled",
                    {"court": "CNDA", "kind": "asylum", "at": HEARING_AT})
    path = link(client, keys["alpha"])
    before = events_of(fetch(client, path))
    assert len(before) == 1
    (uid, event), = before.items()
    assert case_id in uid and hearing in uid
    assert event.start == datetime(2026, 3, 20, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    dated(client, keys["alpha"], case_id, "HearingPostponed",
          {"hearing_event_id": hearing, "new_at": "2026-04-02T13:30:00Z"})
    after = events_of(fetch(client, path))
    assert list(after) == [uid]
    moved = after[uid]
    # 15:30 in Paris: summer time (CEST, UTC+2) has begun by 2 April.
    assert moved.start == datetime(2026, 4, 2, 15, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert moved.start.astimezone(timezone.utc) == datetime(2026, 4, 2, 13, 30, tzinfo=timezone.utc)
    assert int(moved["sequence"]) > int(event["sequence"])


def test_times_are_in_the_case_zone_with_its_vtimezone(client, keys):
    case_id = new_case(client, keys["alpha"], timezone="Europe/Istanbul")
    dated(client, keys["alpha"], case_id, "DeadlineSet", {"kind": "appeal", "at": HEARING_AT})
    response = client.get(link(client, keys["alpha"]))
    text = response.text
    assert "DTSTART;TZID=Europe/Istanbul:20260320T120000" in text.replace("\r\n ", "")
    cal = Calendar.from_ical(response.content)
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Istanbul"]


def test_a_cancelled_removal_disappears_and_a_window_has_a_start_and_end(client, keys):
    case_id = new_case(client, keys["alpha"])
    dated(client, keys["alpha"], case_id, "RemovalScheduled",
          {"window_start": "2026-03-10T00:00:00Z", "window_end": "2026-03-12T00:00:00Z", "destination": "UZ"})
    path = link(client, keys["alpha"])
    (event,) = fetch(client, path).walk("VEVENT")
    assert event.start == datetime(2026, 3, 10, tzinfo=timezone.utc)
    assert event.end == datetime(2026, 3, 12, tzinfo=timezone.utc)
    assert "UZ" in str(event["summary"])
    dated(client, keys["alpha"], case_id, "RemovalCancelled", {})
    assert fetch(client, path).walk("VEVENT") == []


def test_alarms_ring_at_the_reminder_offsets_of_the_owners_team(client, keys):
    case_id = new_case(client, keys["alpha"])
    dated(client, keys["alpha"], case_id, "HearingScheduled", {"court": "CNDA", "kind": "asylum", "at": HEARING_AT})
    path = link(client, keys["alpha"])
    triggers = sorted(a["trigger"].dt for a in fetch(client, path).walk("VALARM"))
    assert triggers == [-timedelta(hours=72), -timedelta(hours=24), -timedelta(hours=2)]
    for key, offset in ((keys["alpha"], "PT6H"), (keys["beta"], "PT5H"), (ADMIN_KEY, "PT7H")):
        response = client.post("/v1/subscriptions", headers=as_(key), json={
            "name": "desk", "reminders": [offset], "channel": {"kind": "webhook", "url": "https://h.ngo.example/"}})
        assert response.status_code == 201, response.text
    triggers = sorted(a["trigger"].dt for a in fetch(client, path).walk("VALARM"))
    # Alpha's own 6 h is added; beta's 5 h and the admin's all-teams 7 h are other teams' settings and stay out.
    assert triggers == [-timedelta(hours=72), -timedelta(hours=24), -timedelta(hours=6), -timedelta(hours=2)]
    admins = sorted(a["trigger"].dt for a in fetch(client, link(client, ADMIN_KEY)).walk("VALARM"))
    assert -timedelta(hours=7) in admins and -timedelta(hours=6) not in admins


def test_another_teams_cases_never_appear(client, keys):
    alpha_case = new_case(client, keys["alpha"])
    beta_case = new_case(client, keys["beta"])
    for key, case_id in ((keys["alpha"], alpha_case), (keys["beta"], beta_case)):
        dated(client, key, case_id, "DeadlineSet", {"kind": "appeal", "at": HEARING_AT})
    alpha = link(client, keys["alpha"])
    uids = list(events_of(fetch(client, alpha)))
    assert len(uids) == 1 and alpha_case in uids[0]
    everything = link(client, ADMIN_KEY)  # an admin sees every team's
    assert {u.split(".")[0] for u in events_of(fetch(client, everything))} == {alpha_case, beta_case}


def test_names_only_when_asked_for_and_the_role_may_see_them(client, keys):
    case_id = new_case(client, keys["alpha"])
    dated(client, keys["alpha"], case_id, "DeadlineSet", {"kind": "appeal", "at": HEARING_AT})
    asked = fetch(client, link(client, keys["alpha"], include_names=True))
    assert NAME in str(asked.walk("VEVENT")[0]["summary"])
    for key, body in ((keys["alpha"], {}), (keys["viewer"], {"include_names": True})):
        response = client.get(link(client, key, **body))
        assert response.status_code == 200
        assert NAME not in response.text and "Alpha" not in response.text
        assert case_id[:8] in response.text


def test_revoked_links_and_owners_who_lost_access_get_a_bare_404(client, box, keys):
    case_id = new_case(client, keys["alpha"])
    dated(client, keys["alpha"], case_id, "DeadlineSet", {"kind": "appeal", "at": HEARING_AT})
    path = link(client, keys["alpha"])
    link_id = client.get("/v1/calendar/links", headers=as_(keys["alpha"])).json()[0]["id"]
    # Another team's editor may not revoke it, and is not told it exists.
    assert client.delete(f"/v1/calendar/links/{link_id}", headers=as_(keys["beta"])).status_code == 404
    assert client.get(path).status_code == 200
    assert client.delete(f"/v1/calendar/links/{link_id}", headers=as_(keys["alpha"])).status_code == 204
    gone = client.get(path)
    unknown = client.get("/calendar/" + "x" * 43 + ".ics")
    assert gone.status_code == unknown.status_code == 404
    assert gone.text == unknown.text and case_id not in gone.text
    assert client.delete(f"/v1/calendar/links/{link_id}", headers=as_(keys["alpha"])).status_code == 404

    # A revoked key's links stop at once; an admin may revoke anyone's link.
    beta_path = link(client, keys["beta"])
    beta_id = client.get("/v1/calendar/links", headers=as_(keys["beta"])).json()[0]["id"]
    key_id = next(k["id"] for k in KeyService(box.engine, box.clock).list() if k["name"] == "beta editor")
    KeyService(box.engine, box.clock).revoke(key_id)
    assert client.get(beta_path).status_code == 404
    assert client.delete(f"/v1/calendar/links/{beta_id}").status_code == 204


def test_links_are_listed_without_tokens_to_their_owner_only(client, keys):
    path = link(client, keys["alpha"], include_names=True, language="fr")
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    assert len(token) >= 43
    mine = client.get("/v1/calendar/links", headers=as_(keys["alpha"]))
    assert mine.status_code == 200 and token not in mine.text
    assert [(i["include_names"], i["language"], i["revoked_at"]) for i in mine.json()] == [(True, "fr", None)]
    assert client.get("/v1/calendar/links", headers=as_(keys["beta"])).json() == []
    assert client.post("/v1/calendar/links", headers=as_(keys["alpha"]),
                       json={"include_names": "yes please"}).json()["detail"][0]["loc"] == ["body", "include_names"]
    assert client.post("/v1/calendar/links", headers=as_(keys["alpha"]),
                       json={"language": "xx"}).json()["detail"][0]["loc"][:2] == ["body", "language"]
    assert client.post("/v1/calendar/links").status_code == 201  # no body at all
    assert client.post("/v1/calendar/links", headers={"Authorization": ""}).status_code == 401


def test_each_fetch_is_in_the_access_log_without_the_token_and_fetches_are_rate_limited(client, box, keys, caplog):
    path = link(client, keys["alpha"])
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    with caplog.at_level(logging.INFO, logger="vigil.requests"):
        answers = [client.get(path).status_code for _ in range(8)]
    assert "GET /calendar/… 200" in caplog.text and token not in caplog.text
    assert answers[:6] == [200] * 6 and answers[6:] == [429, 429]
    entries = [e for e in box.access_log.entries() if e["action"] == "calendar"]
    assert len(entries) == 6
    assert all(token not in e["path"] and e["actor"].startswith("key:") for e in entries)
    assert box.access_log.verify()["ok"]


def test_past_dates_leave_the_feed_after_a_short_horizon(client, box, keys):
    case_id = new_case(client, keys["alpha"])
    dated(client, keys["alpha"], case_id, "DeadlineSet", {"kind": "appeal", "at": HEARING_AT})
    path = link(client, keys["alpha"])
    assert len(fetch(client, path).walk("VEVENT")) == 1
    box.clock.advance(timedelta(days=21))  # the deadline passed 2 days ago: still shown, its outcome awaited
    (event,) = fetch(client, path).walk("VEVENT")
    assert event.walk("VALARM") == []  # no alarm for what has passed
    box.clock.advance(timedelta(days=2))
    assert fetch(client, path).walk("VEVENT") == []


def test_the_settings_page_makes_shows_once_and_revokes_a_calendar_address(browser, client, keys):
    case_id = new_case(client, keys["alpha"])
    dated(client, keys["alpha"], case_id, "DeadlineSet", {"kind": "appeal", "at": HEARING_AT})
    form = browser.get("/signin")
    assert browser.post("/signin", data={"api_key": keys["alpha"], "timezone": "UTC", "next": "/settings",
                                         "csrf_token": csrf_of(form.text)}).status_code == 303
    page = browser.get("/settings")
    assert 'action="/settings/calendar"' in page.text and 'name="include_names"' in page.text
    made = browser.post("/settings/calendar", data={"csrf_token": csrf_of(page.text), "include_names": "on"})
    assert made.status_code == 201
    url = made.text.split('id="calendar-url">')[1].split("<")[0]
    feed = browser.get(urlsplit(url).path)
    assert feed.status_code == 200 and NAME in feed.text
    again = browser.get("/settings")
    assert url not in again.text and "/revoke" in again.text
    link_id = again.text.split('action="/settings/calendar/')[1].split("/revoke")[0]
    assert browser.post(f"/settings/calendar/{link_id}/revoke",
                        data={"csrf_token": csrf_of(again.text)}).status_code == 303
    assert browser.get(urlsplit(url).path).status_code == 404
    # A viewer is not offered names.
    browser.cookies.clear()
    form = browser.get("/signin")
    browser.post("/signin", data={"api_key": keys["viewer"], "timezone": "UTC", "next": "/settings",
                                  "csrf_token": csrf_of(form.text)})
    assert 'name="include_names"' not in browser.get("/settings").text


def test_a_persons_link_follows_the_person_and_stops_when_they_are_disabled(api, browser, box, clock):
    from .test_accounts import PASSWORD, enroll, invite, next_code, sign_in

    secret, _ = enroll(browser, clock, invite(api, team="lyon"))
    assert sign_in(browser, "aziza karimova", PASSWORD, next_code(secret, clock)).status_code == 303
    case_id = new_case(api, ADMIN_KEY, teams=["lyon"])
    dated(api, ADMIN_KEY, case_id, "DeadlineSet", {"kind": "appeal", "at": "2026-12-20T09:00:00Z"})
    page = browser.get("/settings")
    made = browser.post("/settings/calendar", data={"csrf_token": csrf_of(page.text)})
    assert made.status_code == 201
    path = urlsplit(made.text.split('id="calendar-url">')[1].split("<")[0]).path
    (event,) = fetch(browser, path).walk("VEVENT")
    assert case_id in str(event["uid"]) and NAME not in str(event["summary"])
    person_id = api.get("/v1/users").json()[0]["id"]
    assert api.post(f"/v1/users/{person_id}/disable").status_code == 204
    assert browser.get(path).status_code == 404


@pytest.mark.parametrize("token", ["x", "a" * 5000, "%C3%A9t%C3%A9", "..%2F..%2Fetc", "%00", "'%20OR%201=1--"])
def test_odd_tokens_get_the_same_bare_404(client, token):
    response = client.get(f"/calendar/{token}.ics", headers={"Authorization": ""})
    assert response.status_code in (400, 404), response.text
    assert "calendar" not in response.text.lower()


def test_one_owner_holds_a_bounded_number_of_live_addresses(client, keys):
    from service.calendar_links import MAX_LINKS_PER_OWNER

    made = [link(client, keys["viewer"]) for _ in range(MAX_LINKS_PER_OWNER)]
    refused = client.post("/v1/calendar/links", headers=as_(keys["viewer"]))
    assert refused.status_code == 409 and "revoke one" in refused.json()["detail"]
    assert link(client, keys["alpha"])  # another owner is not held back
    mine = client.get("/v1/calendar/links", headers=as_(keys["viewer"])).json()
    assert client.delete(f"/v1/calendar/links/{mine[0]['id']}", headers=as_(keys["viewer"])).status_code == 204
    assert link(client, keys["viewer"]) not in made  # a revoked one frees its place
