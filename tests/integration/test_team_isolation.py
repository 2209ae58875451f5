"""One team's settings never touch another team's work: bounded durations, reminders planned per team, and a
failure in planning reminders that never costs the event (attack-run finding 1)."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text

from notifications.tables import reminders
from service.keys import KeyService

DATED = [("RemovalScheduled", {"at": "2027-06-01T06:00:00Z", "destination": "UZ"}),
         ("HearingScheduled", {"court": "CNDA", "kind": "asylum", "at": "2027-06-02T09:00:00Z"}),
         ("DeadlineSet", {"kind": "appeal", "at": "2027-06-03T12:00:00Z"})]


def as_(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def teams(client, box):
    return {team: KeyService(box.engine, box.clock).create("editor", team, f"{team} editor") for team in ("alpha", "beta")}


def new_case(client, key) -> str:
    response = client.post("/v1/cases", headers=as_(key), json={"person": {"name": "Isolation Person"},
                                                                "country": "FR"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def subscribe(client, key, **fields):
    return client.post("/v1/subscriptions", headers=as_(key), json={
        "name": "desk", "channel": {"kind": "webhook", "url": "https://hooks.ngo.example/x"}, **fields})


@pytest.mark.parametrize("fields, loc", [
    ({"reminders": ["P800000D"]}, ["body", "reminders", "0"]),
    ({"reminders": ["PT99999999999999999999H"]}, ["body", "reminders", "0"]),
    ({"reminders": ["P367D"]}, ["body", "reminders", "0"]),
    ({"escalate_after": "P1000000000D", "escalate_to": {"kind": "webhook", "url": "https://h.ngo.example/"}},
     ["body", "escalate_after"]),
    ({"escalate_after": "P999999999999D", "escalate_to": {"kind": "webhook", "url": "https://h.ngo.example/"}},
     ["body", "escalate_after"]),
    ({"escalate_after": "P8D", "escalate_to": {"kind": "webhook", "url": "https://h.ngo.example/"}},
     ["body", "escalate_after"]),
])
def test_durations_beyond_what_the_domain_needs_are_refused_naming_the_field(client, teams, fields, loc):
    response = subscribe(client, teams["beta"], **fields)
    assert response.status_code == 422, response.text
    assert any(error["loc"][:len(loc)] == loc for error in response.json()["detail"]), response.json()
    assert client.get("/v1/subscriptions", headers=as_(teams["beta"])).json()["items"] == []


def test_the_longest_allowed_offsets_still_plan(client, box, teams):
    longest = subscribe(client, teams["beta"], reminders=["P366D"])
    assert longest.status_code == 201 and longest.json()["reminders"] == ["P366D"]
    escalating = subscribe(client, teams["beta"], escalate_after="P7D",
                           escalate_to={"kind": "webhook", "url": "https://h.ngo.example/"})
    assert escalating.status_code == 201 and escalating.json()["escalate_after"] == "P7D"


def test_a_stored_out_of_range_offset_breaks_no_team_and_shapes_no_other_teams_reminders(client, box, teams):
    """A subscription row written before the bounds existed (or by hand) with P800000D: every team still records
    dates, and beta's own odd offsets never plan reminders on alpha's cases."""
    assert subscribe(client, teams["beta"], reminders=["PT100H"]).status_code == 201
    with box.engine.begin() as conn:
        conn.execute(text("UPDATE subscriptions SET reminders = :r"), {"r": json.dumps(["P800000D", "PT100H"])})
    alpha_case, beta_case = new_case(client, teams["alpha"]), new_case(client, teams["beta"])
    for case_id, key in ((alpha_case, teams["alpha"]), (beta_case, teams["beta"])):
        for type_, data in DATED:
            response = client.post(f"/v1/cases/{case_id}/events", headers=as_(key), json={
                "type": type_, "occurred_at": "2026-02-28T00:00:00Z", "data": data})
            assert response.status_code == 201, response.text
    with box.engine.connect() as conn:
        offsets = {case_id: {r.offset_seconds // 3600 for r in conn.execute(
            select(reminders).where(reminders.c.case_id == case_id, reminders.c.kind != "outcome_overdue"))}
            for case_id in (alpha_case, beta_case)}  # offsets before the dates; the outcome watches come after
    assert offsets[alpha_case] == {72, 24, 2}
    assert offsets[beta_case] == {100, 72, 24, 2}


def test_a_failure_in_planning_reminders_never_loses_or_refuses_the_event(client, box, teams, monkeypatch):
    import notifications.reminders as planning

    def broken(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(planning, "reconcile", broken)
    case_id = new_case(client, teams["alpha"])
    response = client.post(f"/v1/cases/{case_id}/events", headers=as_(teams["alpha"]), json={
        "type": "RemovalScheduled", "occurred_at": "2026-02-28T00:00:00Z", "data": DATED[0][1]})
    assert response.status_code == 201, response.text
    history = client.get(f"/v1/cases/{case_id}/events", headers=as_(teams["alpha"])).json()["items"]
    assert [e["type"] for e in history][-1] == "RemovalScheduled"
    assert client.get(f"/v1/cases/{case_id}/verify", headers=as_(teams["alpha"])).json()["ok"] is True


def test_an_idempotency_key_belongs_to_its_caller(client, box, teams):
    """Finding 3: beta reusing alpha's Idempotency-Key opens beta's own case and learns nothing of alpha's."""
    key = {"Idempotency-Key": "shared-key-1"}
    first = client.post("/v1/cases", headers={**as_(teams["alpha"]), **key},
                        json={"person": {"name": "Alpha Person"}, "country": "FR"})
    other = client.post("/v1/cases", headers={**as_(teams["beta"]), **key},
                        json={"person": {"name": "Beta Person"}, "country": "NO"})
    assert first.status_code == other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers and other.json()["id"] != first.json()["id"]
    assert client.get(f"/v1/cases/{other.json()['id']}", headers=as_(teams["beta"])).json()["country"] == "NO"
    again = client.post("/v1/cases", headers={**as_(teams["alpha"]), **key},
                        json={"person": {"name": "Alpha Person"}, "country": "FR"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["id"] == first.json()["id"]
    with box.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("SELECT idempotency_key FROM events WHERE idempotency_key "
                                                  "IS NOT NULL"))]
    assert len(stored) == 2 and "shared-key-1" not in stored  # stored as a hash bound to the caller


def test_the_same_idempotency_key_with_another_body_is_refused(client, teams):
    key = {**as_(teams["alpha"]), "Idempotency-Key": "k-2"}
    first = client.post("/v1/cases", headers=key, json={"person": {"name": "Alpha Person"}, "country": "FR"})
    changed = client.post("/v1/cases", headers=key, json={"person": {"name": "Someone Else"}, "country": "FR"})
    assert first.status_code == 201 and changed.status_code == 422, changed.text
    assert changed.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    case_id = first.json()["id"]
    note = {"type": "NoteAdded", "occurred_at": "2026-02-28T00:00:00Z", "data": {"text": "first"}}
    assert client.post(f"/v1/cases/{case_id}/events", headers={**key, "Idempotency-Key": "k-3"},
                       json=note).status_code == 201
    other = client.post(f"/v1/cases/{case_id}/events", headers={**key, "Idempotency-Key": "k-3"},
                        json={**note, "data": {"text": "second"}})
    assert other.status_code == 422, other.text
    notes = [e for e in client.get(f"/v1/cases/{case_id}/events", headers=key).json()["items"]
             if e["type"] == "NoteAdded"]
    assert [n["data"]["text"] for n in notes] == ["first"]


def test_an_admins_all_teams_subscription_is_not_its_teams_to_touch(client, box, teams):
    """Finding 7: the admin's team ("admin" for the bootstrap key) neither deletes, reads nor lists the admin's
    all-teams subscription, nor sees its deliveries, which speak of other teams' cases."""
    editor = KeyService(box.engine, box.clock).create("editor", "admin", "admin-team editor")
    viewer = KeyService(box.engine, box.clock).create("viewer", "admin", "admin-team viewer")
    created = client.post("/v1/subscriptions", json={
        "name": "all", "channel": {"kind": "webhook", "url": "http://127.0.0.1:9/all"}})
    assert created.status_code == 201 and created.json()["all_teams"] is True
    sub_id = created.json()["id"]
    case_id = new_case(client, teams["alpha"])
    client.post(f"/v1/cases/{case_id}/events", headers=as_(teams["alpha"]), json={
        "type": "Detained", "occurred_at": "2026-02-28T00:00:00Z", "data": {}})
    assert client.get("/v1/deliveries", params={"subscription_id": sub_id}).json()["items"]  # the admin sees it
    for key in (editor, viewer):
        assert client.get(f"/v1/subscriptions/{sub_id}", headers=as_(key)).status_code == 404
        assert all(s["id"] != sub_id for s in client.get("/v1/subscriptions", headers=as_(key)).json()["items"])
        assert client.get("/v1/deliveries", headers=as_(key)).json()["items"] == []
    assert client.delete(f"/v1/subscriptions/{sub_id}", headers=as_(editor)).status_code == 404
    assert client.get(f"/v1/subscriptions/{sub_id}").status_code == 200


def test_answers_and_pages_with_case_data_are_never_stored_by_a_cache(client):
    """Finding 10: no-store on the case, its export and the dashboard page; static assets may be cached."""
    case_id = client.post("/v1/cases", json={"person": {"name": "Cached Person"}, "country": "FR"}).json()["id"]
    for path in (f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/export?format=html", f"/cases/{case_id}",
                 f"/cases/{case_id}/dossier", "/v1/cases", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
    assert "no-store" not in client.get("/static/vigil.css").headers.get("cache-control", "")


def test_another_cases_event_id_is_answered_as_if_it_did_not_exist(client, box, teams):
    """Finding 10: beta reusing an event_id that alpha's case holds gets a 201 for its own event, not a 409 that
    tells it the id exists elsewhere; each team's alert and retraction stay its own."""
    for team in ("alpha", "beta"):
        assert subscribe(client, teams[team]).status_code == 201
    shared_id = str(uuid.uuid4())
    detained = {"type": "Detained", "event_id": shared_id, "occurred_at": "2026-02-28T08:00:00Z",
                "data": {"place": "Camp"}}
    cases = {team: new_case(client, teams[team]) for team in ("alpha", "beta")}
    first = client.post(f"/v1/cases/{cases['alpha']}/events", headers=as_(teams["alpha"]), json=detained)
    other = client.post(f"/v1/cases/{cases['beta']}/events", headers=as_(teams["beta"]), json=detained)
    assert first.status_code == other.status_code == 201, other.text
    assert "Idempotent-Replayed" not in other.headers
    # The same id again in beta's own case is beta's retry, answered as one.
    again = client.post(f"/v1/cases/{cases['beta']}/events", headers=as_(teams["beta"]), json=detained)
    assert again.status_code in (200, 201) and again.json()["version"] == other.json()["version"]
    alerts_of = {team: [a for a in client.get("/v1/alerts", headers=as_(teams[team])).json()["items"]
                        if a["rule"] == "event.Detained"] for team in ("alpha", "beta")}
    assert [a["case_id"] for a in alerts_of["alpha"]] == [cases["alpha"]]
    assert [a["case_id"] for a in alerts_of["beta"]] == [cases["beta"]]
    retract = {"type": "EventRetracted", "occurred_at": "2026-02-28T09:00:00Z",
               "data": {"event_id": shared_id, "reason": "entered in error"}}
    assert client.post(f"/v1/cases/{cases['beta']}/events", headers=as_(teams["beta"]),
                       json=retract).status_code == 201
    states = {team: [a["state"] for a in client.get("/v1/alerts?state=all", headers=as_(teams[team])).json()["items"]
                     if a["rule"] == "event.Detained"] for team in ("alpha", "beta")}
    assert states == {"alpha": ["open"], "beta": ["withdrawn"]}
