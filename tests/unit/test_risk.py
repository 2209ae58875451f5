"""Risk levels and their plain-words reasons for the situations domain.md names."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from events.projection import fold, status_of, upcoming
from events.risk import assess

from .event_streams import NOW, case, days


def test_removal_within_72h_despite_interim_measure_is_critical():
    state = fold(case(("Detained", {}, days(-30)), ("InterimMeasureGranted", {"body": "ECtHR"}, days(-20)),
                      ("RemovalScheduled", {"at": (NOW + timedelta(hours=31)).isoformat(), "destination": "UZ"},
                       days(-1))))
    risk = assess(state, NOW)
    assert risk.level == "critical"
    assert risk.reasons[0] == "removal to UZ scheduled in 31 h despite ECtHR interim measure"
    assert status_of(state) == "removal_scheduled"


def test_removal_far_off_is_high_and_becomes_critical_inside_72h():
    state = fold(case(("RemovalScheduled", {"at": days(10).isoformat(), "destination": "UZ"}, days(-1))))
    assert assess(state, NOW).level == "high"
    assert assess(state, days(7.5)).level == "critical"


def test_removal_window_open_now_is_critical():
    state = fold(case(("RemovalScheduled", {"window_start": days(-1).isoformat(), "window_end": days(5).isoformat(),
                                            "destination": "TM"}, days(-2))))
    assert "removal window to TM is open now" in assess(state, NOW).reasons


def test_removed_despite_measure_and_without_contact():
    state = fold(case(("InterimMeasureGranted", {"body": "ECtHR"}, days(-30)),
                      ("Removed", {"method": "deported", "destination": "UZ"}, days(-1))))
    assert assess(state, NOW).reasons == ["deported to UZ on 2023-11-13 despite ECtHR interim measure"]
    later = assess(state, days(1.5))
    assert "no contact since removal on 2023-11-13" in later.reasons


def test_contact_after_removal_clears_the_overdue_reason():
    state = fold(case(("Removed", {"method": "extradited", "destination": "UZ"}, days(-10)),
                      ("ContactEstablished", {"with_whom": "mother"}, days(-9))))
    risk = assess(state, NOW)
    assert risk.level == "elevated" and status_of(state) == "removed"


def test_whereabouts_unknown_ill_treatment_and_death_are_critical():
    for kind in ("WhereaboutsUnknown", "IllTreatmentReported", "Deceased"):
        assert assess(fold(case((kind, {}, days(-1)))), NOW).level == "critical"


def test_detained_with_extradition_request_is_high():
    state = fold(case(("Detained", {}, days(-5)), ("ExtraditionRequested", {"requesting_state": "UZ"}, days(-4))))
    assert assess(state, NOW).reasons == ["detained with extradition request pending"]


def test_hearing_within_72h_is_high_and_listed_upcoming():
    at = NOW + timedelta(hours=20)
    state = fold(case(("AsylumClaimLodged", {}, days(-5)),
                      ("HearingScheduled", {"court": "CNDA", "kind": "asylum", "at": at.isoformat()}, days(-4))))
    risk = assess(state, NOW)
    assert risk.level == "high" and risk.reasons == ["asylum hearing, CNDA in 20 h"]
    assert [i["kind"] for i in upcoming(state, NOW)] == ["hearing"]
    # The hearing has passed with no outcome recorded: high for the watch, then proceedings are still pending.
    assert assess(state, days(2)).reasons == ["asylum hearing, CNDA passed 28 h ago; outcome not recorded"]
    assert assess(state, days(16)).level == "elevated"


def test_postponed_hearing_moves():
    hearing_id = str(uuid.uuid4())
    state = fold(case(("HearingScheduled", {"court": "c", "kind": "appeal", "at": days(1).isoformat()}, days(-4),
                       hearing_id),
                      ("HearingPostponed", {"hearing_event_id": hearing_id, "new_at": days(20).isoformat()},
                       days(-1))))
    assert upcoming(state, NOW)[0]["at"].startswith(days(20).strftime("%Y-%m-%d"))
    assert assess(state, NOW).level == "monitoring"


def test_safe_closed_and_nothing_pending():
    assert assess(fold(case(("Resettled", {"country": "SE"}, days(-1)))), NOW).level == "resolved"
    assert assess(fold(case(("CaseClosed", {"reason": "x"}, days(-1)))), NOW).level == "resolved"
    assert assess(fold(case()), NOW).level == "monitoring"
    reopened = fold(case(("AsylumClaimLodged", {}, days(-9)), ("CaseClosed", {"reason": "x"}, days(-8)),
                         ("CaseReopened", {}, days(-7))))
    assert status_of(reopened) == "in_proceedings"


def test_reminder_titles_show_local_and_utc_time_and_a_readable_countdown():
    from events.reminders import title

    at = datetime(2027, 3, 29, 7, 0, tzinfo=timezone.utc)
    assert title("hearing", None, at, at - timedelta(minutes=10), "Europe/Paris") == \
        "Hearing in 10 min: 2027-03-29 09:00 CEST (Europe/Paris; 07:00 UTC)"
    assert title("removal", None, at, at - timedelta(days=4), None) == "Removal in 4 days: 2027-03-29 07:00 UTC"


def test_detention_place_follows_the_person_across_removal():
    state = fold(case(("Detained", {"place": "retention centre, France"}, days(-30)),
                      ("Removed", {"method": "deported", "destination": "UZ"}, days(-20))))
    assert state.detained is None and state.detained_place is None  # unknown at the destination until recorded
    state = fold(case(("Detained", {"place": "retention centre, France"}, days(-30)),
                      ("Removed", {"method": "deported", "destination": "UZ"}, days(-20)),
                      ("DetainedOnReturn", {"place": "Kokand"}, days(-19))))
    assert state.detained and state.detained_place == "Kokand" and state.after_return == "detained_at_destination"


def test_a_removal_date_passed_without_outcome_is_critical_until_one_is_recorded():
    removal_id = str(uuid.uuid4())
    scheduled = ("RemovalScheduled", {"at": (NOW - timedelta(hours=3)).isoformat(), "destination": "UZ"}, days(-2),
                 removal_id)
    state = fold(case(scheduled))
    risk = assess(state, NOW)
    assert risk.level == "critical" and risk.reasons == ["removal date passed 3 h ago; outcome not recorded"]
    assert risk.since == (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    window = fold(case(("RemovalScheduled", {"window_start": days(-3).isoformat(), "window_end": days(-2).isoformat(),
                                             "destination": "TJ"}, days(-4))))
    assert assess(window, NOW).reasons == ["removal date passed 2 days ago; outcome not recorded"]
    for outcome in (("RemovalNotCarriedOut", {}, days(-0.01)), ("RemovalCancelled", {}, days(-0.01)),
                    ("Released", {}, days(-0.01)), ("Removed", {"method": "deported", "destination": "UZ"},
                                                    days(-0.1))):
        assert "outcome not recorded" not in " ".join(assess(fold(case(scheduled, outcome)), NOW).reasons), outcome
    # Released before the date is no outcome of it.
    assert assess(fold(case(scheduled, ("Released", {}, days(-1)))), NOW).level == "critical"


def test_a_passed_hearing_is_high_for_the_watch_unless_an_outcome_or_decision_is_recorded():
    from events.timing import Timing

    hearing_id = str(uuid.uuid4())
    hearing = ("HearingScheduled", {"court": "CNDA", "kind": "asylum", "at": days(-1).isoformat()}, days(-9),
               hearing_id)
    state = fold(case(("AsylumClaimLodged", {}, days(-10)), hearing))
    assert assess(state, NOW).reasons == ["asylum hearing, CNDA passed 24 h ago; outcome not recorded"]
    assert assess(state, NOW, Timing(outcome_watch=timedelta(hours=12))).level == "elevated"
    held = fold(case(hearing, ("HearingHeld", {"hearing_event_id": hearing_id, "outcome": "reserved"}, days(-0.5))))
    assert assess(held, NOW).level == "monitoring"
    decided = fold(case(hearing, ("AsylumDecided", {"outcome": "refused"}, days(-0.5))))
    assert "outcome not recorded" not in " ".join(assess(decided, NOW).reasons)
    deadline_id = str(uuid.uuid4())
    deadline = ("DeadlineSet", {"kind": "appeal", "at": days(-2).isoformat()}, days(-9), deadline_id)
    assert assess(fold(case(deadline)), NOW).reasons == ["appeal deadline passed 2 days ago; outcome not recorded"]
    assert assess(fold(case(deadline, ("DeadlineMet", {"deadline_event_id": deadline_id}, days(-3)))),
                  NOW).level == "monitoring"


def test_old_crises_say_since_when_and_rank_below_current_ones():
    from events.risk import list_place

    old = fold(case(("Removed", {"method": "deported", "destination": "UZ"}, datetime(2011, 6, 3, tzinfo=timezone.utc))))
    risk = assess(old, NOW)
    assert risk.reasons == ["no contact since removal in June 2011"] and risk.chronic(NOW, timedelta(days=7))
    late = fold(case(("Removed", {"method": "deported", "destination": "UZ"}, days(-10))))
    assert assess(late, NOW).reasons == ["no contact since removal on 2023-11-04"]  # still critical now
    soon = fold(case(("RemovalScheduled", {"at": (NOW + timedelta(hours=10)).isoformat(), "destination": "UZ"},
                      days(-1))))
    assert not assess(soon, NOW).chronic(NOW, timedelta(days=7))
    places = {name: list_place(state, NOW) for name, state in (("old", old), ("late", late), ("soon", soon))}
    assert sorted(places, key=lambda n: places[n].order(n)) == ["soon", "late", "old"]
    assert places["late"].rank == places["soon"].rank and not places["late"].current and places["soon"].current
    missing = fold(case(("WhereaboutsUnknown", {}, datetime(2019, 2, 1, tzinfo=timezone.utc))))
    assert assess(missing, NOW).reasons == ["whereabouts unknown since February 2019"]
    # A fresh report on an old case makes it current again.
    renewed = fold(case(("Removed", {"method": "deported", "destination": "UZ"},
                         datetime(2011, 6, 3, tzinfo=timezone.utc)), ("IllTreatmentReported", {}, days(-1))))
    assert not assess(renewed, NOW).chronic(NOW, timedelta(days=7))
    fresh = fold(case(("WhereaboutsUnknown", {}, days(-1))))
    assert assess(fresh, NOW).reasons == ["whereabouts unknown"] and not assess(fresh, NOW).chronic(NOW, timedelta(7))


def test_outcome_watches_are_planned_for_each_awaited_date():
    from events.reminders import OUTCOME, Due, decide, plan
    from events.timing import Timing

    removal_at = NOW + timedelta(days=2)
    state = fold(case(("RemovalScheduled", {"window_start": days(1).isoformat(), "window_end": removal_at.isoformat(),
                                            "destination": "UZ"}, days(-1)),
                      ("HearingScheduled", {"court": "c", "kind": "appeal", "at": days(3).isoformat()}, days(-1))))
    watches = [p for p in plan(state, [timedelta(hours=2)], Timing(outcome_overdue_after=timedelta(hours=5)))
               if p.kind == OUTCOME]
    assert [(p.source_type, p.item_at, p.due_at) for p in watches] == [
        ("RemovalScheduled", removal_at, removal_at + timedelta(hours=5)),  # the window's end
        ("HearingScheduled", days(3), days(3) + timedelta(hours=5))]
    # A passed date's watch fires although its date has passed (a reminder of the date itself would be skipped).
    [decision] = decide([Due("x", OUTCOME, "e", removal_at, removal_at + timedelta(hours=5))],
                        removal_at + timedelta(hours=6), timedelta(minutes=1))
    assert decision.action == "fire"
    assert plan(fold(case(("RemovalScheduled", {"at": days(1).isoformat(), "destination": "UZ"}, days(-1)),
                          ("CaseClosed", {"reason": "x"}, days(-0.5)))), [timedelta(hours=2)], Timing()) == []
