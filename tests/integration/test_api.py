"""The case API end to end through HTTP, on SQLite and PostgreSQL: every endpoint and the bad inputs."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest

from service.keys import KeyService

from .helpers.cases import PERSON, append, open_case


def versions(client, case_id) -> list[int]:
    return [e["version"] for e in client.get(f"/v1/cases/{case_id}/events").json()["items"]]


def test_open_case_and_read_it_back(client):
    response = client.post("/v1/cases", json={"person": PERSON, "country": "FR", "summary": "at risk"})
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1 and body["position"] >= 1
    assert response.headers["location"] == f"/v1/cases/{body['id']}"
    view = client.get(f"/v1/cases/{body['id']}").json()
    assert view["person"]["name"] == PERSON["name"] and view["person"]["aliases"] == PERSON["aliases"]
    assert view["status"] == "monitoring" and view["risk"] == {"level": "monitoring", "reasons": ["nothing pending"]}
    for key in ("id", "version", "status", "after_return", "risk", "detained", "interim_measures", "asylum",
                "last_contact_at", "upcoming", "next_deadline", "country", "origin_country", "tags"):
        assert key in view


@pytest.mark.parametrize("body, loc", [
    ({"country": "FR"}, ["body", "person"]),
    ({"person": {"name": ""}, "country": "FR"}, ["body", "person", "name"]),
    ({"person": {"name": "X"}, "country": "France"}, ["body", "country"]),
    ({"person": {"name": "X"}, "country": "FR", "tags": ["Not A Tag"]}, ["body", "tags", "0"]),
    ({"person": {"name": "X"}, "country": "FR", "surprise": 1}, ["body", "surprise"]),
    ({"person": {"name": "X"}, "country": "FR", "timezone": "America"}, ["body", "timezone"]),  # a folder
    ({"person": {"name": "X"}, "country": "FR", "timezone": "x" * 60}, ["body", "timezone"]),
])
def test_open_case_bad_input_names_the_field(client, body, loc):
    response = client.post("/v1/cases", json=body)
    assert response.status_code == 422
    assert any(d["loc"] == loc for d in response.json()["detail"]), response.json()
    assert "X" not in response.text or "input" not in response.text  # input is never echoed
    assert client.get("/v1/cases").json()["items"] == []


def test_open_case_idempotency_key(client):
    first = client.post("/v1/cases", json={"person": PERSON, "country": "FR"}, headers={"Idempotency-Key": "o-1"})
    again = client.post("/v1/cases", json={"person": PERSON, "country": "FR"}, headers={"Idempotency-Key": "o-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(client.get("/v1/cases").json()["items"]) == 1


def test_append_events_changes_status_and_risk(client):
    case_id = open_case(client)
    assert append(client, case_id, "Detained", {"place": "Nice", "authority": "police"}).status_code == 201
    assert append(client, case_id, "InterimMeasureGranted", {"body": "ECtHR"}, "2023-11-02T10:00:00Z").status_code == 201
    response = append(client, case_id, "Removed", {"method": "deported", "destination": "UZ"},
                      "2023-11-15T06:00:00Z", headers={"If-Match": "3"})
    assert response.status_code == 201 and response.json()["version"] == 4
    assert response.headers["etag"] == '"4"'
    view = client.get(f"/v1/cases/{case_id}").json()
    assert view["status"] == "removed" and view["risk"]["level"] == "critical"
    assert "deported to UZ on 2023-11-15 despite ECtHR interim measure" in view["risk"]["reasons"]


@pytest.mark.parametrize("payload, loc", [
    ({"type": "Teleported", "occurred_at": "2023-11-01T00:00:00Z", "data": {}}, ["body", "type"]),
    ({"type": "Detained", "data": {}}, ["body", "occurred_at"]),
    ({"type": "Detained", "occurred_at": "last Tuesday", "data": {}}, ["body", "occurred_at"]),
    ({"type": "Detained", "occurred_at": "2023-11-01T00:00:00", "data": {}}, ["body", "occurred_at"]),
    ({"type": "Removed", "occurred_at": "2023-11-01T00:00:00Z", "data": {"method": "deported"}},
     ["body", "data", "destination"]),
    ({"type": "HearingScheduled", "occurred_at": "2023-11-01T00:00:00Z", "data": {"court": "c", "kind": "k"}},
     ["body", "data", "at"]),
    ({"type": "HearingScheduled", "occurred_at": "2023-11-01T00:00:00Z",
      "data": {"court": "c", "kind": "k", "at": "soon"}}, ["body", "data", "at"]),
    ({"type": "Detained", "occurred_at": "2023-11-01T00:00:00Z", "data": {"colour": "red"}},
     ["body", "data", "colour"]),
    ({"type": "CaseOpened", "occurred_at": "2023-11-01T00:00:00Z", "data": {}}, ["body", "type"]),
    ({"type": "PersonalDataErased", "occurred_at": "2023-11-01T00:00:00Z", "data": {}}, ["body", "type"]),
    ({"type": "EventRetracted", "occurred_at": "2023-11-01T00:00:00Z",
      "data": {"event_id": str(uuid.uuid4()), "reason": "typo"}}, ["body", "data", "event_id"]),
    ({"type": "Detained", "occurred_at": "2023-11-01T00:00:00Z", "data": {}, "date_precision": "week"},
     ["body", "date_precision"]),
    ({"type": "Detained", "occurred_at": "0001-01-01T00:00:00+05:00", "data": {}}, ["body", "occurred_at"]),
    ({"type": "DeadlineSet", "occurred_at": "2023-11-01T00:00:00Z",
      "data": {"kind": "appeal", "at": "9999-12-31T23:59:59-05:00"}}, ["body", "data", "at"]),
    ({"type": "NoteAdded", "occurred_at": "2023-11-01T00:00:00Z", "data": {"text": "x" * 5001}},
     ["body", "data", "text"]),
    ({"type": "RemovalScheduled", "occurred_at": "2023-11-01T00:00:00Z", "data": {"destination": "UZ"}},
     ["body", "data"]),
])
def test_bad_event_input_is_422_naming_the_field_and_appends_nothing(client, payload, loc):
    case_id = open_case(client)
    response = client.post(f"/v1/cases/{case_id}/events", json=payload)
    assert response.status_code == 422, response.text
    assert any(d["loc"] == loc for d in response.json()["detail"]), response.json()
    assert versions(client, case_id) == [1]


def test_malformed_json_unknown_case_and_oversized_body(client, box):
    case_id = open_case(client)
    bad = client.post(f"/v1/cases/{case_id}/events", content=b'{"type": "Detained",',
                      headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "json_invalid"
    missing = append(client, str(uuid.uuid4()), "Detained")
    assert missing.status_code == 404 and missing.json() == {"detail": "case not found"}
    assert client.get("/v1/cases/not-a-uuid").status_code == 404
    huge = {"type": "NoteAdded", "occurred_at": "2023-11-01T00:00:00Z",
            "data": {"text": "x" * (box.settings.max_body_bytes + 10)}}
    too_big = client.post(f"/v1/cases/{case_id}/events", json=huge)
    assert too_big.status_code == 413 and "larger than" in too_big.json()["detail"]
    assert versions(client, case_id) == [1]


def test_version_conflict_and_bad_if_match(client):
    case_id = open_case(client)
    assert append(client, case_id, "NoteAdded", {"text": "a"}, headers={"If-Match": "1"}).status_code == 201
    conflict = append(client, case_id, "NoteAdded", {"text": "b"}, headers={"If-Match": "1"})
    assert conflict.status_code == 409 and conflict.json()["current_version"] == 2
    bad = append(client, case_id, "NoteAdded", {"text": "b"}, headers={"If-Match": "two"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["header", "If-Match"]
    assert versions(client, case_id) == [1, 2]


def test_idempotent_event_append(client):
    case_id = open_case(client)
    first = append(client, case_id, "NoteAdded", {"text": "a"}, headers={"Idempotency-Key": "n-1"})
    again = append(client, case_id, "NoteAdded", {"text": "a"}, headers={"Idempotency-Key": "n-1"})
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    event_id = str(uuid.uuid4())
    one = append(client, case_id, "NoteAdded", {"text": "b"}, event_id=event_id)
    two = append(client, case_id, "NoteAdded", {"text": "b"}, event_id=event_id)
    assert one.json() == two.json() and one.json()["event_id"] == event_id
    reused = append(client, case_id, "Detained", {}, event_id=event_id)
    assert reused.status_code == 409
    assert versions(client, case_id) == [1, 2, 3]


def test_history_with_retraction_and_paging(client):
    case_id = open_case(client)
    wrong = append(client, case_id, "Removed", {"method": "deported", "destination": "UZ"}).json()
    retraction = append(client, case_id, "EventRetracted", {"event_id": wrong["event_id"], "reason": "misreported"})
    assert retraction.status_code == 201
    items = client.get(f"/v1/cases/{case_id}/events").json()["items"]
    assert [i["type"] for i in items] == ["CaseOpened", "Removed", "EventRetracted"]
    assert items[1]["retracted_by"] == retraction.json()["event_id"]
    assert items[0]["data"]["person"]["name"] == PERSON["name"]
    for key in ("event_id", "type", "version", "position", "occurred_at", "date_precision", "recorded_at",
                "actor", "data", "source", "retracted_by", "hash"):
        assert key in items[0]
    assert client.get(f"/v1/cases/{case_id}").json()["status"] == "monitoring"
    page = client.get(f"/v1/cases/{case_id}/events", params={"after_version": 1, "limit": 1}).json()["items"]
    assert [i["version"] for i in page] == [2]


def test_status_as_of_and_known_at(client, clock):
    case_id = open_case(client)
    append(client, case_id, "Detained", {}, "2023-10-20T08:00:00Z")
    clock.advance(timedelta(days=30))
    recorded_late_from = clock.now()
    append(client, case_id, "Removed", {"method": "deported", "destination": "UZ"}, "2023-11-15T06:00:00Z",
           source={"url": "https://example.org/report", "title": "report", "reliability": "confirmed"})
    before = client.get(f"/v1/cases/{case_id}/status", params={"as_of": "2023-11-01"}).json()
    assert before["status"] == "monitoring" and before["detained"] is True
    after = client.get(f"/v1/cases/{case_id}/status", params={"as_of": "2023-11-16T00:00:00Z"}).json()
    assert after["status"] == "removed"
    known = client.get(f"/v1/cases/{case_id}/status",
                       params={"known_at": (recorded_late_from - timedelta(seconds=1)).isoformat()}).json()
    assert known["status"] == "monitoring" and known["version"] == 2
    bad = client.get(f"/v1/cases/{case_id}/status", params={"as_of": "yesterday"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "as_of"]
    naive = client.get(f"/v1/cases/{case_id}/status", params={"known_at": "2023-11-01T00:00:00"})
    assert naive.status_code == 422
    ancient = client.get(f"/v1/cases/{case_id}/status", params={"as_of": "0001-01-01T00:00:00+05:00"})
    assert ancient.status_code == 422 and ancient.json()["detail"][0]["loc"] == ["query", "as_of"]


def test_a_list_page_opens_personal_data_for_its_own_cases_only(client, box, monkeypatch):
    ids = [open_case(client) for _ in range(5)]
    opened = []
    real_unwrap = box.cases.data_keys.unwrap
    monkeypatch.setattr(box.cases.data_keys, "unwrap",
                        lambda case_id, wrapped: opened.append(case_id) or real_unwrap(case_id, wrapped))
    page = client.get("/v1/cases", params={"limit": 2}).json()
    assert [c["person"]["name"] for c in page["items"]] == [PERSON["name"]] * 2
    assert sorted(opened) == sorted(c["id"] for c in page["items"]) and set(opened) <= set(ids)


def test_list_sorted_by_risk_with_filters_and_cursor(client):
    calm = open_case(client, tags=["calm"])
    urgent = open_case(client, tags=["urgent"], country="KZ")
    append(client, urgent, "WhereaboutsUnknown")
    middle = open_case(client)
    append(client, middle, "AsylumClaimLodged")
    ids = [c["id"] for c in client.get("/v1/cases").json()["items"]]
    assert ids == [urgent, middle, calm]
    assert [c["id"] for c in client.get("/v1/cases", params={"risk": "critical"}).json()["items"]] == [urgent]
    assert [c["id"] for c in client.get("/v1/cases", params={"tag": "calm"}).json()["items"]] == [calm]
    assert [c["id"] for c in client.get("/v1/cases", params={"country": "kz"}).json()["items"]] == [urgent]
    assert [c["id"] for c in client.get("/v1/cases", params={"status": "in_proceedings"}).json()["items"]] == [middle]
    assert len(client.get("/v1/cases", params={"q": "alpha"}).json()["items"]) == 3
    page = client.get("/v1/cases", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get("/v1/cases", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [c["id"] for c in rest["items"]] == [calm] and rest["next_cursor"] is None


def test_verify_and_exports(client):
    case_id = open_case(client)
    append(client, case_id, "Detained", {"place": "=HYPERLINK(\"x\")"})
    verify = client.get(f"/v1/cases/{case_id}/verify").json()
    assert verify["ok"] is True and verify["events"] == 2 and len(verify["head"]) == 64
    dossier = client.get(f"/v1/cases/{case_id}/export").json()
    assert dossier["case"]["id"] == case_id and len(dossier["events"]) == 2 and dossier["verify"]["ok"]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/v1/cases/{case_id}/export?format=csv").text)))
    assert [r["type"] for r in rows] == ["CaseOpened", "Detained"]
    html = client.get(f"/v1/cases/{case_id}/export", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and PERSON["name"] in html.text
    pdf = client.get(f"/v1/cases/{case_id}/export", params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert client.get(f"/v1/cases/{case_id}/export", params={"format": "docx"}).status_code == 422


def test_global_feed_and_event_types(client):
    first = open_case(client)
    second = open_case(client)
    append(client, first, "Detained")
    feed = client.get("/v1/events").json()
    assert [(i["stream_id"], i["type"]) for i in feed["items"]] == [
        (first, "CaseOpened"), (second, "CaseOpened"), (first, "Detained")]
    assert feed["items"][0]["data"]["person"] == {"redacted": True}
    assert PERSON["name"] not in str(feed)
    after = client.get("/v1/events", params={"after": feed["items"][0]["position"], "types": "Detained"}).json()
    assert [i["type"] for i in after["items"]] == ["Detained"]
    assert client.get("/v1/events", params={"types": "Nope"}).status_code == 422
    types = client.get("/v1/event-types").json()["items"]
    assert {t["type"] for t in types} >= {"CaseOpened", "RemovalScheduled", "InterimMeasureGranted", "Resettled"}
    removal = next(t for t in types if t["type"] == "RemovalScheduled")
    assert "destination" in removal["schema"]["properties"] and removal["schema_version"] == 1


def test_health(client):
    assert client.get("/healthz").json() == {"ok": True}
    assert client.get("/readyz").json()["ok"] is True


def test_keys_roles_and_teams(client, box):
    case_id = open_case(client, teams=["lyon"])
    viewer = KeyService(box.engine, box.clock).create("viewer", "lyon", "viewer")
    outsider = KeyService(box.engine, box.clock).create("editor", "oslo", "outsider")
    assert client.get("/v1/cases", headers={"Authorization": ""}).status_code == 401
    assert client.get("/v1/cases", headers={"Authorization": "Bearer nope"}).status_code == 401
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    seen = client.get(f"/v1/cases/{case_id}", headers=as_viewer).json()
    assert "person" not in seen and seen["id"] == case_id
    assert PERSON["name"] not in client.get(f"/v1/cases/{case_id}/events", headers=as_viewer).text
    assert append(client, case_id, "Detained", headers=as_viewer).status_code == 403
    as_outsider = {"Authorization": f"Bearer {outsider}"}
    assert client.get(f"/v1/cases/{case_id}", headers=as_outsider).status_code == 404
    assert client.get("/v1/cases", headers=as_outsider).json()["items"] == []
    assert append(client, case_id, "Detained", headers=as_outsider).status_code == 404
