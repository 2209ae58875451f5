"""Passed dates with a hand-moved clock: a removal date passing without news (critical, outcome.overdue after the
grace and daily until an outcome), a hearing passing (high), and the case list ordered acute before chronic."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from notifications.tables import alerts
from service.settings import Settings

from .helpers.reminders import NOW, append, clock, open_case, rows, tick_at  # noqa: F401 (clock is a fixture)

GRACE = timedelta(hours=2)


def overdue_alerts(box, case_id) -> list:
    with box.engine.connect() as conn:
        return conn.execute(select(alerts.c.severity, alerts.c.title, alerts.c.raised_at).where(
            alerts.c.case_id == case_id, alerts.c.rule == "outcome.overdue").order_by(alerts.c.raised_at)).all()


def risk(client, case_id) -> dict:
    return client.get(f"/v1/cases/{case_id}").json()["risk"]


def test_a_removal_date_passing_without_news_is_critical_alerts_after_the_grace_and_daily(client, box, clock):
    case_id = open_case(client)
    removal_at = NOW + timedelta(days=1)
    append(client, case_id, "RemovalScheduled", {"at": removal_at.isoformat(), "destination": "UZ"})

    clock.set(removal_at + timedelta(hours=1))
    view = client.get(f"/v1/cases/{case_id}").json()
    assert view["risk"] == {"level": "critical", "reasons": ["removal date passed 1 h ago; outcome not recorded"]}
    assert view["next_deadline"]["overdue"] is True and view["next_deadline"]["kind"] == "removal"
    assert tick_at(box, clock, removal_at + GRACE - timedelta(minutes=1))["fired"] == 0  # within the grace

    assert tick_at(box, clock, removal_at + GRACE + timedelta(seconds=1))["fired"] == 1
    [(severity, title, _)] = overdue_alerts(box, case_id)
    assert severity == "critical"
    assert title == "Removal date passed 2 h ago (2027-03-21 09:00 CET (Europe/Paris; 08:00 UTC)): outcome not recorded"
    assert tick_at(box, clock, removal_at + GRACE + timedelta(hours=5))["fired"] == 0  # not every tick

    assert tick_at(box, clock, removal_at + GRACE + timedelta(days=1, seconds=2))["fired"] == 1  # daily
    assert [a.title.split(" (")[0] for a in overdue_alerts(box, case_id)][-1] == "Removal date passed 26 h ago"

    append(client, case_id, "RemovalNotCarriedOut", {"reason": "the pilot refused"},
           occurred_at=clock.now().isoformat())
    assert [r.state for r in rows(box, case_id, kind="outcome_overdue")][-1] == "cancelled"
    assert tick_at(box, clock, removal_at + GRACE + timedelta(days=5))["fired"] == 0
    assert len(overdue_alerts(box, case_id)) == 2
    assert risk(client, case_id)["level"] != "critical"


@pytest.mark.parametrize("outcome", [
    ("Removed", {"method": "deported", "destination": "UZ"}),
    ("RemovalCancelled", {}),
    ("Released", {}),
    ("RemovalScheduled", {"at": (NOW + timedelta(days=9)).isoformat(), "destination": "UZ"}),
])
def test_each_outcome_ends_the_watch(client, box, clock, outcome):
    case_id = open_case(client)
    removal_at = NOW + timedelta(hours=5)
    append(client, case_id, "RemovalScheduled", {"at": removal_at.isoformat(), "destination": "UZ"})
    clock.set(removal_at + timedelta(hours=1))
    type_, data = outcome
    append(client, case_id, type_, data, occurred_at=clock.now().isoformat())
    assert "outcome not recorded" not in " ".join(risk(client, case_id)["reasons"])
    assert tick_at(box, clock, removal_at + timedelta(days=3)) is not None
    assert overdue_alerts(box, case_id) == []


def test_a_hearing_passing_without_outcome_is_high_and_alerts_once(client, box, clock):
    case_id = open_case(client)
    hearing_at = NOW + timedelta(days=1)
    hearing = append(client, case_id, "HearingScheduled", {"court": "CNDA", "kind": "asylum",
                                                           "at": hearing_at.isoformat()})
    clock.set(hearing_at + timedelta(hours=3))
    assert risk(client, case_id) == {"level": "high",
                                     "reasons": ["asylum hearing, CNDA passed 3 h ago; outcome not recorded"]}
    tick_at(box, clock, hearing_at + GRACE + timedelta(seconds=1))
    [(severity, title, _)] = overdue_alerts(box, case_id)
    assert severity == "high" and title.startswith("Hearing passed 2 h ago")
    tick_at(box, clock, hearing_at + timedelta(days=3))
    assert len(overdue_alerts(box, case_id)) == 1  # a hearing's watch does not repeat

    response = client.post(f"/v1/cases/{case_id}/events", json={
        "type": "HearingHeld", "occurred_at": clock.now().isoformat(),
        "data": {"hearing_event_id": case_id, "outcome": "decided"}})
    assert response.status_code == 422 and "hearing_event_id" in response.text
    append(client, case_id, "HearingHeld", {"hearing_event_id": hearing["event_id"], "outcome": "reserved"},
           occurred_at=clock.now().isoformat())
    assert risk(client, case_id)["level"] == "monitoring"


def test_a_passed_hearing_is_high_only_for_the_watch(client, box, clock):
    case_id = open_case(client)
    append(client, case_id, "DeadlineSet", {"kind": "appeal", "at": (NOW + timedelta(hours=1)).isoformat()})
    clock.set(NOW + timedelta(days=13))
    assert risk(client, case_id)["level"] == "high"
    clock.set(NOW + timedelta(days=15))
    assert risk(client, case_id)["level"] == "monitoring"


def test_a_removal_date_long_past_is_critical_history_but_pages_nobody(client, box, clock):
    case_id = open_case(client)
    append(client, case_id, "RemovalScheduled", {"at": datetime(2011, 6, 3, 6, tzinfo=timezone.utc).isoformat(),
                                                 "destination": "UZ"}, occurred_at="2011-05-20T10:00:00Z")
    assert risk(client, case_id) == {"level": "critical",
                                     "reasons": ["removal date passed in June 2011; outcome not recorded"]}
    assert rows(box, case_id, kind="outcome_overdue") == []
    tick_at(box, clock, NOW + timedelta(days=2))
    assert overdue_alerts(box, case_id) == []


def test_the_list_puts_what_needs_action_now_first(client, box, clock):
    def case(*events) -> str:
        case_id = open_case(client)
        for type_, data, at in events:
            append(client, case_id, type_, data, occurred_at=at.isoformat())
        return case_id

    old_removed = case(("Removed", {"method": "deported", "destination": "UZ"},
                        datetime(2011, 6, 3, tzinfo=timezone.utc)))
    old_missing = case(("WhereaboutsUnknown", {}, datetime(2019, 2, 1, tzinfo=timezone.utc)))
    hearing_soon = case(("HearingScheduled", {"court": "c", "kind": "appeal",
                                              "at": (NOW + timedelta(hours=30)).isoformat()}, NOW))
    removal_10h = case(("RemovalScheduled", {"at": (NOW + timedelta(hours=10)).isoformat(), "destination": "TJ"},
                        NOW - timedelta(days=1)))
    removal_in_5d = case(("RemovalScheduled", {"at": (NOW + timedelta(days=5)).isoformat(), "destination": "TJ"},
                          NOW - timedelta(days=1)))
    # Learned today, happened ten days ago, no contact since: still critical now.
    late_removed = case(("Removed", {"method": "extradited", "destination": "KZ"}, NOW - timedelta(days=10)))
    calm = case()
    # Its date (2011) is older than every other, so only the horizon rule keeps it below the current crises.
    old_passed = case(("RemovalScheduled", {"at": "2011-06-03T06:00:00Z", "destination": "UZ"},
                       datetime(2011, 5, 20, tzinfo=timezone.utc)))

    old = {late_removed, old_removed, old_missing, old_passed}  # critical, but older than the horizon: among themselves by id

    def order() -> list:
        ids = [c["id"] for c in client.get("/v1/cases", params={"limit": 100}).json()["items"]]
        grouped: list = []
        for case_id in ids:
            if case_id in old:
                if not grouped or grouped[-1] != old:
                    grouped.append(old)
            else:
                grouped.append(case_id)
        return grouped

    assert order() == [removal_10h, old, hearing_soon, removal_in_5d, calm]
    reasons = {c["id"]: c["risk"]["reasons"] for c in client.get("/v1/cases", params={"limit": 100}).json()["items"]}
    assert reasons[old_removed] == ["no contact since removal in June 2011"]
    assert reasons[old_missing] == ["whereabouts unknown since February 2019"]
    assert reasons[late_removed] == [f"no contact since removal on {(NOW - timedelta(days=10)).date()}"]

    # Eleven hours on: the removal date has passed with no news; it stays on top. Two days on, the 5-day removal
    # is within 72 h and critical, above every old crisis; the hearing has passed with no outcome recorded.
    for moment, expected in (
            (NOW + timedelta(hours=11), [removal_10h, old, hearing_soon, removal_in_5d, calm]),
            (NOW + timedelta(days=2, hours=12), [removal_10h, removal_in_5d, old, hearing_soon, calm])):
        clock.set(moment)
        assert order() == expected, moment
        box.ticker.tick()
        assert order() == expected, moment


def test_outcome_grace_is_bounded():
    assert Settings(_env_file=None).outcome_overdue_after == timedelta(hours=2)
    assert Settings(_env_file=None, outcome_overdue_after="PT30M").outcome_overdue_after == timedelta(minutes=30)
    with pytest.raises(ValidationError):
        Settings(_env_file=None, outcome_overdue_after="P30D")
    with pytest.raises(ValidationError):
        Settings(_env_file=None, outcome_overdue_after="-PT1H")
