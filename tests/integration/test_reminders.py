"""Reminders and time rules with a hand-moved clock: offsets, moved and cancelled dates, windows, expiry,
contact overdue, escalation, daylight saving, downtime."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from .helpers.delivery import drain
from .helpers.reminders import (NOW, append, clock, open_case, reminder_bodies, rows,  # noqa: F401 - clock
                                subscribe, tick_at)


def test_default_offsets_remind_72_24_and_2_hours_before(client, box, clock, receiver):
    subscribe(client, receiver)
    case_id = open_case(client)
    hearing_at = NOW + timedelta(days=5)
    append(client, case_id, "HearingScheduled", {"court": "CNDA", "kind": "asylum", "at": hearing_at.isoformat()})
    assert [(r.offset_seconds // 3600, r.state) for r in rows(box, case_id)] == [(72, "pending"), (24, "pending"),
                                                                                 (2, "pending")]
    assert tick_at(box, clock, hearing_at - timedelta(hours=73))["fired"] == 0
    for hours, severity in ((72, "high"), (24, "high"), (2, "critical")):
        assert tick_at(box, clock, hearing_at - timedelta(hours=hours) + timedelta(seconds=5))["fired"] == 1
        last = reminder_bodies(receiver)[-1]
        assert last["rule"] == "reminder.hearing" and last["severity"] == severity and not last["late"]
        assert last["due_at"].startswith(hearing_at.strftime("%Y-%m-%dT%H:%M"))
    assert tick_at(box, clock, hearing_at + timedelta(hours=1))["fired"] == 0
    assert len(reminder_bodies(receiver)) == 3
    assert "Hearing in 2 h: 2027-03-25 09:00 CET (Europe/Paris; 08:00 UTC)" in reminder_bodies(receiver)[-1]["title"]


def test_each_subscription_gets_its_own_offsets(client, box, clock, receiver):
    subscribe(client, receiver, "/six", reminders=["PT6H"])
    subscribe(client, receiver, "/default")
    case_id = open_case(client)
    at = NOW + timedelta(days=4)
    append(client, case_id, "DeadlineSet", {"kind": "appeal", "at": at.isoformat()})
    for hours in (72, 24, 6, 2):
        tick_at(box, clock, at - timedelta(hours=hours))
    assert [b["title"].split(":")[0] for b in reminder_bodies(receiver, "/six")] == ["Deadline in 6 h"]
    assert len(reminder_bodies(receiver, "/default")) == 3


def test_a_moved_date_replaces_its_reminders_and_a_cancelled_removal_stops_them(client, box, clock, receiver):
    subscribe(client, receiver)
    case_id = open_case(client)
    first = NOW + timedelta(days=4)
    append(client, case_id, "RemovalScheduled", {"at": first.isoformat(), "destination": "UZ"})
    moved = NOW + timedelta(days=10)
    append(client, case_id, "RemovalScheduled", {"at": moved.isoformat(), "destination": "UZ"})
    states = [(r.item_at, r.state) for r in rows(box, case_id)]
    assert sorted(s for _, s in states) == ["cancelled"] * 3 + ["pending"] * 3
    assert all(at == moved for at, s in states if s == "pending")
    tick_at(box, clock, first - timedelta(hours=1))
    assert reminder_bodies(receiver) == []  # nothing for the old date
    append(client, case_id, "RemovalCancelled", {"reason": "interim measure"})
    assert {r.state for r in rows(box, case_id)} == {"cancelled"}
    tick_at(box, clock, moved - timedelta(hours=1))
    assert reminder_bodies(receiver) == []


def test_retracting_the_scheduling_event_withdraws_its_reminders(client, box, clock):
    case_id = open_case(client)
    scheduled = append(client, case_id, "RemovalScheduled", {"at": (NOW + timedelta(days=5)).isoformat(),
                                                             "destination": "UZ"})
    assert {r.state for r in rows(box, case_id)} == {"pending"}
    append(client, case_id, "EventRetracted", {"event_id": scheduled["event_id"], "reason": "wrong case"})
    assert {r.state for r in rows(box, case_id)} == {"cancelled"}


def test_windows_remind_before_they_open_and_measures_before_they_expire(client, box, clock, receiver):
    subscribe(client, receiver)
    case_id = open_case(client)
    opens = NOW + timedelta(days=6)
    append(client, case_id, "RemovalScheduled", {"window_start": opens.isoformat(),
                                                 "window_end": (opens + timedelta(days=7)).isoformat(),
                                                 "destination": "TM"})
    expires = NOW + timedelta(days=8)
    append(client, case_id, "InterimMeasureGranted", {"body": "ECtHR", "expires_at": expires.isoformat()})
    kinds = {(r.kind, r.item_at) for r in rows(box, case_id)}
    assert kinds == {("removal", opens), ("measure_expiry", expires)}
    tick_at(box, clock, opens - timedelta(hours=2))
    tick_at(box, clock, expires - timedelta(hours=2))
    rules = [b["rule"] for b in reminder_bodies(receiver)]
    # The first tick also finds the expiry's 72 h reminder due; the second, its 2 h one (24 h is superseded).
    assert sorted(rules) == ["reminder.measure_expiry", "reminder.measure_expiry", "reminder.removal"]


def test_contact_overdue_fires_then_daily_until_contact(client, box, clock, receiver):
    subscribe(client, receiver)
    case_id = open_case(client)
    append(client, case_id, "Removed", {"method": "deported", "destination": "UZ"})
    assert tick_at(box, clock, NOW + timedelta(hours=47))["fired"] == 0
    assert tick_at(box, clock, NOW + timedelta(hours=48, minutes=1))["fired"] == 1
    assert tick_at(box, clock, NOW + timedelta(hours=60))["fired"] == 0
    assert tick_at(box, clock, NOW + timedelta(hours=72, minutes=1))["fired"] == 1
    overdue = [b for b in reminder_bodies(receiver) if b["rule"] == "contact.overdue"]
    assert len(overdue) == 2 and {b["severity"] for b in overdue} == {"critical"}
    append(client, case_id, "ContactEstablished", {"with_whom": "his mother"},
           occurred_at=(NOW + timedelta(hours=80)).isoformat())
    assert tick_at(box, clock, NOW + timedelta(days=5))["fired"] == 0
    assert [r.state for r in rows(box, case_id)] == ["sent", "sent", "cancelled"]


def test_unacknowledged_critical_alerts_escalate_on_the_tick(client, box, clock, receiver):
    subscribe(client, receiver, filter={"event_types": ["Removed"]}, escalate_after="PT30M",
              escalate_to={"kind": "webhook", "url": receiver.url("/escalation")})
    append(client, open_case(client), "Removed", {"method": "deported", "destination": "UZ"})
    drain(box)
    assert tick_at(box, clock, NOW + timedelta(minutes=29))["escalated"] == 0
    assert tick_at(box, clock, NOW + timedelta(minutes=31))["escalated"] == 1
    assert [json.loads(r.body)["type"] for r in receiver.at("/escalation")] == ["alert.escalated"]


@pytest.mark.parametrize("hearing_local, expected_utc_dues, shown", [
    # Spring forward in Paris on 2027-03-28 at 02:00: the hearing is at 09:00 CEST (07:00 UTC).
    ("2027-03-29T09:00:00+02:00", ["2027-03-26T07:00", "2027-03-28T07:00", "2027-03-29T05:00"],
     "2027-03-29 09:00 CEST (Europe/Paris; 07:00 UTC)"),
    # Fall back on 2027-10-31 at 03:00: the hearing is at 09:00 CET (08:00 UTC).
    ("2027-11-01T09:00:00+01:00", ["2027-10-29T08:00", "2027-10-31T08:00", "2027-11-01T06:00"],
     "2027-11-01 09:00 CET (Europe/Paris; 08:00 UTC)"),
])
def test_daylight_saving_in_paris(client, box, clock, receiver, hearing_local, expected_utc_dues, shown):
    clock.set(datetime.fromisoformat(hearing_local) - timedelta(days=10))
    subscribe(client, receiver)
    case_id = open_case(client)
    append(client, case_id, "HearingScheduled", {"court": "TA Paris", "kind": "removal", "at": hearing_local},
           occurred_at=clock.now().isoformat())
    dues = [r.due_at.strftime("%Y-%m-%dT%H:%M") for r in rows(box, case_id)]
    assert dues == expected_utc_dues  # offsets are exact durations, whatever the clocks on the wall do
    tick_at(box, clock, rows(box, case_id)[-1].due_at + timedelta(seconds=1))
    assert shown in reminder_bodies(receiver)[-1]["title"]


def test_after_downtime_one_late_reminder_fires_and_stale_ones_are_skipped(client, box, clock, receiver):
    subscribe(client, receiver)
    case_id = open_case(client)
    soon = NOW + timedelta(days=4)
    passed = NOW + timedelta(days=3, hours=12)
    append(client, case_id, "HearingScheduled", {"court": "c", "kind": "appeal", "at": soon.isoformat()})
    append(client, case_id, "DeadlineSet", {"kind": "appeal", "at": passed.isoformat()})
    # The service is down until one hour before the hearing: every reminder's moment has passed.
    result = tick_at(box, clock, soon - timedelta(hours=1))
    assert result["fired"] == 2  # the hearing's last reminder, late, and the passed deadline's outcome watch
    [late] = reminder_bodies(receiver)
    assert late["rule"] == "reminder.hearing" and late["late"] is True and late["severity"] == "critical"
    by_state = {}
    for r in rows(box, case_id):
        by_state.setdefault(r.state, []).append((r.kind, r.note))
    assert len(by_state["sent"]) == 1 and len(by_state["skipped"]) == 5
    assert ("deadline", "the date had passed when the reminder came due") in by_state["skipped"]
    assert ("hearing", "a later reminder for the same date was due too") in by_state["skipped"]
    assert tick_at(box, clock, soon - timedelta(minutes=30))["fired"] == 0  # once only


def test_a_date_already_past_is_stored_and_reminds_nobody(client, box):
    case_id = open_case(client)
    append(client, case_id, "RemovalScheduled", {"at": "2011-05-30T06:00:00Z", "destination": "CN"},
           occurred_at="2011-05-01T00:00:00Z")
    assert client.get(f"/v1/cases/{case_id}").json()["removal"]["at"].startswith("2011-05-30")
    assert rows(box, case_id) == []


def test_bad_time_zone_is_refused(client):
    response = client.post("/v1/cases", json={"person": {"name": "X"}, "country": "FR", "timezone": "Mars/Olympus"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "timezone"]
