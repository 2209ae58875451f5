"""Issue 14's times, looking back and small traps, through the API on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from service.keys import KeyService

from .helpers.cases import PERSON, append, open_case


def events_of(client, case_id):
    return client.get(f"/v1/cases/{case_id}/events").json()["items"]


def test_a_bare_date_is_a_day_precision_occurred_at(client):
    case_id = open_case(client)
    assert append(client, case_id, "Detained", {}, "2023-11-15").status_code == 201
    assert append(client, case_id, "Released", {}, "2023-12-01", date_precision="month").status_code == 201
    # A day-precision moment written with an offset keeps the date as written, at midnight UTC: no invented time.
    assert append(client, case_id, "NoteAdded", {"text": "n"}, "2023-12-14T23:30:00-05:00",
                  date_precision="day").status_code == 201
    detained, released, note = events_of(client, case_id)[1:]
    assert (detained["occurred_at"], detained["date_precision"]) == ("2023-11-15T00:00:00.000000Z", "day")
    assert (released["occurred_at"], released["date_precision"]) == ("2023-12-01T00:00:00.000000Z", "month")
    assert note["occurred_at"] == "2023-12-14T00:00:00.000000Z"
    bad = append(client, case_id, "Detained", {}, "2023-02-30")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "occurred_at"]
    opened = client.post("/v1/cases", json={"person": PERSON, "country": "FR", "occurred_at": "2011-05-30"})
    assert opened.status_code == 201
    first = events_of(client, opened.json()["id"])[0]
    assert (first["occurred_at"], first["date_precision"]) == ("2011-05-30T00:00:00.000000Z", "day")


def test_a_fact_more_than_a_day_ahead_is_refused_pointing_to_scheduling_events(client, clock):
    case_id = open_case(client)
    soon = (clock.now() + timedelta(hours=20)).isoformat()
    assert append(client, case_id, "Detained", {}, soon).status_code == 201  # clocks and zones differ
    for moment in ((clock.now() + timedelta(days=2)).isoformat(), "2099-01-01"):
        refused = append(client, case_id, "Removed", {"method": "deported", "destination": "UZ"}, moment)
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"][0]
        assert detail["loc"] == ["body", "occurred_at"] and "scheduling event" in detail["msg"]
    # A planned date goes in data.at; occurred_at is when it was decided.
    planned = append(client, case_id, "RemovalScheduled", {"at": "2099-01-01T06:00:00Z", "destination": "UZ"},
                     clock.now().isoformat())
    assert planned.status_code == 201
    future_case = client.post("/v1/cases", json={"person": PERSON, "country": "FR", "occurred_at": "2099-01-01"})
    assert future_case.status_code == 422 and future_case.json()["detail"][0]["loc"] == ["body", "occurred_at"]
    assert len(events_of(client, case_id)) == 3


def test_as_of_shows_the_summary_as_it_stood_and_known_at_before_the_case_is_a_404(client, clock):
    recorded = clock.now()
    opened = client.post("/v1/cases", json={"person": PERSON, "country": "FR", "occurred_at": "2023-10-01",
                                            "summary": "Deported to UZ on 15 Nov 2023 despite the ECtHR."})
    case_id = opened.json()["id"]
    append(client, case_id, "Detained", {}, "2023-10-20")
    append(client, case_id, "Removed", {"method": "deported", "destination": "UZ"}, "2023-11-15")
    back = client.get(f"/v1/cases/{case_id}/status", params={"as_of": "2023-11-01"})
    assert back.status_code == 200
    assert back.json()["summary"] is None and back.json()["detained"] is True and back.json()["status"] == "monitoring"
    now = client.get(f"/v1/cases/{case_id}/status", params={"as_of": (recorded + timedelta(hours=1)).isoformat()})
    assert now.json()["summary"].startswith("Deported") and now.json()["status"] == "removed"
    assert client.get(f"/v1/cases/{case_id}").json()["summary"].startswith("Deported")

    before = client.get(f"/v1/cases/{case_id}/status", params={"known_at": "2023-11-01"})
    assert before.status_code == 404 and "not yet recorded" in before.json()["detail"]
    nothing = client.get(f"/v1/cases/{case_id}/status", params={"as_of": "2020-01-01"})
    assert nothing.status_code == 404 and "had happened" in nothing.json()["detail"]
    first_recorded = events_of(client, case_id)[0]["recorded_at"]
    known = client.get(f"/v1/cases/{case_id}/status", params={"known_at": first_recorded})
    assert known.status_code == 200 and known.json()["version"] == 1


def test_a_case_opened_without_teams_belongs_to_its_openers_team_an_admins_too(client, box):
    editor = KeyService(box.engine, box.clock).create("editor", "admin", "same team as the admin")
    lyon = KeyService(box.engine, box.clock).create("editor", "lyon", "lyon editor")
    by_admin = open_case(client)
    assert client.get(f"/v1/cases/{by_admin}").json()["teams"] == ["admin"]
    assert client.get(f"/v1/cases/{by_admin}", headers={"Authorization": f"Bearer {editor}"}).status_code == 200
    for_lyon = open_case(client, teams=["lyon"])  # an admin naming teams gives the case to those teams only
    assert client.get(f"/v1/cases/{for_lyon}").json()["teams"] == ["lyon"]
    by_lyon = client.post("/v1/cases", json={"person": PERSON, "country": "FR"},
                          headers={"Authorization": f"Bearer {lyon}"}).json()["id"]
    assert client.get(f"/v1/cases/{by_lyon}").json()["teams"] == ["lyon"]


def test_an_unknown_filter_value_is_a_422_listing_the_allowed_ones(client):
    open_case(client)
    for name in ("status", "risk"):
        response = client.get("/v1/cases", params={name: "bogus"})
        assert response.status_code == 422, response.text
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["query", name] and "bogus" not in response.text
    assert "removal_scheduled" in client.get("/v1/cases", params={"status": "x"}).json()["detail"][0]["msg"]
    assert "critical" in client.get("/v1/cases", params={"risk": "x"}).json()["detail"][0]["msg"]
    assert len(client.get("/v1/cases", params={"status": "monitoring", "risk": "monitoring"}).json()["items"]) == 1
    assert len(client.get("/v1/cases", params={"status": "", "q": "alpha"}).json()["items"]) == 1


def test_a_retraction_names_what_it_retracts_in_the_api_and_the_dossier(client):
    case_id = open_case(client)
    wrong = append(client, case_id, "Detained", {"place": "Wrong"}, "2023-12-14").json()
    append(client, case_id, "EventRetracted", {"event_id": wrong["event_id"], "reason": "wrong person"})
    retraction = events_of(client, case_id)[-1]
    assert retraction["retracts"] == {"event_id": wrong["event_id"], "type": "Detained", "version": 2,
                                      "occurred_at": "2023-12-14T00:00:00.000000Z", "date_precision": "day"}
    dossier = client.get(f"/v1/cases/{case_id}/export", params={"format": "html"}).text
    assert "Detained on 14 Dec 2023" in dossier


def test_detention_after_removal_is_unknown_until_recorded(client):
    case_id = open_case(client)
    append(client, case_id, "Detained", {"place": "CRA"}, "2023-10-01T00:00:00Z")
    assert client.get(f"/v1/cases/{case_id}").json()["detained"] is True
    append(client, case_id, "Removed", {"method": "deported", "destination": "UZ"}, "2023-11-15T06:00:00Z")
    assert client.get(f"/v1/cases/{case_id}").json()["detained"] is None
    append(client, case_id, "Released", {}, "2023-11-20T06:00:00Z")
    assert client.get(f"/v1/cases/{case_id}").json()["detained"] is False
    append(client, case_id, "WhereaboutsUnknown", {}, "2023-11-25T06:00:00Z")
    assert client.get(f"/v1/cases/{case_id}").json()["detained"] is None
    append(client, case_id, "DetainedOnReturn", {"place": "Tashkent"}, "2023-11-26T06:00:00Z")
    assert client.get(f"/v1/cases/{case_id}").json()["detained"] is True


def test_country_codes_are_case_insensitive_and_errors_plain(client):
    case_id = client.post("/v1/cases", json={"person": {**PERSON, "nationality": "uz"}, "country": "fr",
                                             "origin_country": " Uz "}).json()["id"]
    view = client.get(f"/v1/cases/{case_id}").json()
    assert (view["country"], view["origin_country"], view["person"]["nationality"]) == ("FR", "UZ", "UZ")
    assert append(client, case_id, "RemovalScheduled", {"at": "2027-01-01T06:00:00Z", "destination": "uz"},
                  "2026-03-01T00:00:00Z").status_code == 201
    assert client.get(f"/v1/cases/{case_id}").json()["removal"]["destination"] == "UZ"
    bad = client.post("/v1/cases", json={"person": PERSON, "country": "France"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "country"]
    assert "Use a two-letter country code such as FR" in bad.json()["detail"][0]["msg"]
