"""breach.interim_measure read off the folded state (pure): one draft per removal and measure in force."""
from __future__ import annotations

from datetime import timedelta

from events.projection import fold
from notifications.rules import breach_alerts

from .event_streams import NOW, case, days


def keys(events, now=NOW) -> list[tuple[str, str]]:
    return [(draft.dedupe_key, removal_type) for draft, removal_type in breach_alerts(fold(events), now)]


def test_a_scheduled_removal_breaches_each_measure_in_force_now_whichever_came_first():
    measure = ("InterimMeasureGranted", {"body": "ECtHR"}, days(-1), "m1")
    other = ("InterimMeasureGranted", {"body": "UN_CAT", "expires_at": days(5).isoformat()}, days(-1), "m2")
    removal = ("RemovalScheduled", {"at": days(3).isoformat(), "destination": "UZ"}, days(-2), "r1")
    assert keys(case(removal, measure, other)) == [("breach:r1:m1", "RemovalScheduled"),
                                                   ("breach:r1:m2", "RemovalScheduled")]
    assert keys(case(measure, other, removal), days(6)) == [("breach:r1:m1", "RemovalScheduled")]  # m2 expired
    lifted = ("InterimMeasureLifted", {"body": "ECtHR"}, days(-0.5))
    assert keys(case(removal, measure, lifted)) == []


def test_a_removal_carried_out_breaches_the_measures_in_force_when_it_happened():
    measure = ("InterimMeasureGranted", {"body": "ECtHR"}, days(-3), "m1")
    removed = ("Removed", {"method": "deported", "destination": "UZ"}, days(-2), "r1")
    assert keys(case(removed, measure)) == [("breach:r1:m1", "Removed")]  # reported late, folded in time order
    after = ("InterimMeasureGranted", {"body": "ECtHR"}, days(-1), "m2")
    assert keys(case(removed, after)) == []  # granted after the removal: no breach of it
    [(draft, _)] = breach_alerts(fold(case(measure, removed)), NOW + timedelta(days=400))
    assert draft.severity == "critical" and draft.title == "Removal carried out despite ECtHR interim measure"
    assert draft.event_id == "r1"
