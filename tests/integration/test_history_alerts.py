"""History does not page (hand-moved clock): late-reported events, a risk that rises, the demo, the bounded
contact check; and the inbox API: every state, bulk acknowledge within the caller's team."""
from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from service.demo import load_demo
from service.keys import KeyService
from service.settings import Settings

from .helpers.reminders import NOW, append, clock, open_case, rows, subscribe, tick_at  # noqa: F401 - clock: a fixture

REMOVED = {"method": "deported", "destination": "UZ"}


def ago(**delta) -> str:
    return (NOW - timedelta(**delta)).isoformat()


def alerts(client, case_id=None, **params) -> list[dict]:
    response = client.get("/v1/alerts", params={"state": "all", **({"case_id": case_id} if case_id else {}),
                                                **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_an_event_older_than_the_horizon_that_changes_no_risk_pages_nobody(client, box, clock, receiver):
    subscribe(client, receiver)  # hears of everything
    case_id = open_case(client)
    append(client, case_id, "AsylumClaimLodged", {"authority": "OFPRA"}, occurred_at=ago(days=3))
    before = alerts(client, case_id)
    # A refusal (high) eight days old: history, and the case stays "proceedings pending".
    append(client, case_id, "InterimMeasureRefused", {"body": "ECtHR"}, occurred_at=ago(days=8))
    assert alerts(client, case_id) == before
    # The same refusal, reported within the horizon, pages as it always did.
    append(client, case_id, "InterimMeasureRefused", {"body": "ECtHR"}, occurred_at=ago(days=6))
    assert [a["rule"] for a in alerts(client, case_id) if a not in before] == ["event.InterimMeasureRefused"]


def test_a_year_precision_date_is_history_only_once_the_whole_year_is(client, box, clock):
    case_id = open_case(client)
    # "2027" may be any day of 2027 up to now: not history, so it pages (critical).
    client.post(f"/v1/cases/{case_id}/events", json={"type": "WhereaboutsUnknown", "occurred_at": "2027-01-01T00:00:00Z",
                                                     "date_precision": "year", "data": {}})
    assert [a["rule"] for a in alerts(client, case_id)] == ["event.WhereaboutsUnknown"]


def test_a_late_report_that_raises_the_risk_gives_one_risk_raised_alert(client, box, clock, receiver):
    subscribe(client, receiver)
    case_id = open_case(client)
    append(client, case_id, "ExtraditionRequested", {"requesting_state": "UZ"}, occurred_at=ago(days=60))
    before = alerts(client, case_id)
    assert {a["rule"] for a in before} == {"event.CaseOpened", "risk.raised"}  # to "proceedings pending", no page
    # Detained a month ago, learned today: now "detained with extradition request pending" (high).
    append(client, case_id, "Detained", {"place": "Lyon"}, occurred_at=ago(days=30))
    new = [a for a in alerts(client, case_id) if a not in before]
    assert [(a["rule"], a["severity"]) for a in new] == [("risk.raised", "high")]
    assert new[0]["title"] == "Risk raised to high: detained with extradition request pending"
    assert client.get(f"/v1/cases/{case_id}").json()["risk"]["level"] == "high"


def test_a_removal_learned_today_that_happened_ten_days_ago_alerts_now_at_critical(client, box, clock):
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED, occurred_at=ago(days=10))
    found = alerts(client, case_id)
    assert [(a["rule"], a["severity"]) for a in found] == [("risk.raised", "critical")]
    assert "no contact since removal on 2027-03-10" in found[0]["title"]
    assert found[0]["event_occurred_at"].startswith("2027-03-10")
    # That was the page for now; the daily contact check resumes at its next daily moment, not at the next tick.
    assert tick_at(box, clock, NOW + timedelta(minutes=1))["fired"] == 0
    assert tick_at(box, clock, NOW + timedelta(days=1, minutes=1))["fired"] == 1
    assert [a["rule"] for a in alerts(client, case_id)] == ["contact.overdue", "risk.raised"]


def test_a_late_removal_on_a_case_already_critical_still_alerts(client, box, clock):
    case_id = open_case(client)
    append(client, case_id, "WhereaboutsUnknown", {})  # critical now, paged as it happened
    append(client, case_id, "Removed", REMOVED, occurred_at=ago(days=10))
    raised = [a for a in alerts(client, case_id) if a["rule"] == "risk.raised"]
    assert len(raised) == 1 and raised[0]["severity"] == "critical"
    assert raised[0]["title"].startswith("Still critical, and now: ") and "no contact since removal" in raised[0]["title"]


def test_the_demo_loads_without_a_single_alert_now_or_at_the_next_ticks(client, box, clock):
    assert load_demo(box) >= 40
    assert alerts(client) == []
    for hours in (0, 1, 49, 24 * 40):
        tick_at(box, clock, NOW + timedelta(hours=hours))
    assert alerts(client) == []


def test_contact_overdue_repeats_daily_for_the_bounded_period_then_stops(client, box, clock, receiver):
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    fired = [tick_at(box, clock, NOW + timedelta(days=day, minutes=1))["fired"] for day in range(1, 40)]
    # First due 2 days after the removal, then daily for 30 days: 31 alerts, the last on day 32.
    assert sum(fired) == 31 and fired[1] == 1 and fired[31] == 1 and fired[32:] == [0] * 7
    assert len([a for a in alerts(client, case_id) if a["rule"] == "contact.overdue"]) == 31
    assert all(r.state == "sent" for r in rows(box, case_id))
    # A later event that touches the case's dates does not start the checks again.
    append(client, case_id, "HearingScheduled", {"court": "CNDA", "kind": "asylum",
                                                 "at": (NOW + timedelta(days=60)).isoformat()},
           occurred_at=(NOW + timedelta(days=39)).isoformat())
    assert tick_at(box, clock, NOW + timedelta(days=41))["fired"] == 0
    assert client.get(f"/v1/cases/{case_id}").json()["risk"]["level"] == "critical"  # the case stays critical


def test_the_bounds_are_settings_with_limits(monkeypatch):
    monkeypatch.setenv("VIGIL_CONTACT_OVERDUE_REPEAT_FOR", "P10D")
    monkeypatch.setenv("VIGIL_HISTORY_HORIZON", "P3D")
    settings = Settings(_env_file=None)
    assert settings.contact_overdue_repeat_for == timedelta(days=10) and settings.history_horizon == timedelta(days=3)
    for name, value in (("VIGIL_CONTACT_OVERDUE_REPEAT_FOR", "P400D"), ("VIGIL_HISTORY_HORIZON", "PT0S")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError):
            Settings(_env_file=None)
        monkeypatch.delenv(name)


def test_state_all_lists_every_state_and_a_bad_state_names_the_field(client, box, clock):
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    append(client, case_id, "WhereaboutsUnknown", {})
    first, second = alerts(client, case_id)
    assert client.post(f"/v1/alerts/{second['id']}/ack").status_code == 200
    assert {a["state"] for a in alerts(client, case_id)} == {"open", "acknowledged"}
    assert [a["id"] for a in client.get("/v1/alerts", params={"state": "open"}).json()["items"]] == [first["id"]]
    bad = client.get("/v1/alerts", params={"state": "everything"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "state"]


def test_bulk_acknowledge_within_the_callers_team_only(client, box, clock):
    keys = {team: KeyService(box.engine, box.clock).create("editor", team, f"{team} editor") for team in ("alpha", "beta")}
    viewer = KeyService(box.engine, box.clock).create("viewer", "alpha", "alpha viewer")
    as_ = {team: {"Authorization": f"Bearer {key}"} for team, key in keys.items()}
    ids = {}
    for team in ("alpha", "beta"):
        case_id = client.post("/v1/cases", headers=as_[team], json={"person": {"name": "Bulk Person"},
                                                                      "country": "FR"}).json()["id"]
        for type_ in ("Removed", "WhereaboutsUnknown"):
            client.post(f"/v1/cases/{case_id}/events", headers=as_[team],
                        json={"type": type_, "occurred_at": NOW.isoformat(), "data": REMOVED if type_ == "Removed"
                              else {}}).raise_for_status()
        ids[team] = [a["id"] for a in alerts(client, case_id)]
    # Beta names one of alpha's alerts among its own: 404, the same as for an id that does not exist, and
    # nothing is acknowledged.
    refused = client.post("/v1/alerts/ack", headers=as_["beta"], json={"ids": [*ids["beta"], ids["alpha"][0]]})
    unknown = client.post("/v1/alerts/ack", headers=as_["beta"], json={"ids": [*ids["beta"], "no-such-alert"]})
    assert refused.status_code == unknown.status_code == 404
    assert refused.json()["detail"] == f"alert not found: {ids['alpha'][0]}"
    assert {a["state"] for a in alerts(client)} == {"open"}
    assert client.post("/v1/alerts/ack", headers={"Authorization": f"Bearer {viewer}"},
                       json={"ids": ids["alpha"]}).status_code == 403
    for body in ({"ids": []}, {"ids": "x"}, {}, {"ids": ["x" * 65]}):
        assert client.post("/v1/alerts/ack", headers=as_["alpha"], json=body).status_code == 422
    done = client.post("/v1/alerts/ack", headers=as_["alpha"], json={"ids": ids["alpha"] + ids["alpha"][:1]})
    assert done.status_code == 200, done.text
    assert sorted(a["id"] for a in done.json()["items"]) == sorted(ids["alpha"])
    assert {a["state"] for a in done.json()["items"]} == {"acknowledged"}
    assert len({a["acknowledged_by"] for a in done.json()["items"]}) == 1
    assert {a["state"] for a in alerts(client) if a["id"] in ids["beta"]} == {"open"}
