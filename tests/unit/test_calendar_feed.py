"""The calendar feed as a pure function of case states and `now`, parsed back with the icalendar library."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar

from events.projection import CaseState
from service.calendar_feed import PAST_HORIZON, FeedCase, build_calendar, dated

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
OFFSETS = [timedelta(hours=72), timedelta(hours=24), timedelta(hours=2)]
CASE = "0a1b2c3d-0000-4000-8000-000000000001"


def at(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hearing(when: datetime, event_id="h1", **extra) -> dict:
    return {"event_id": event_id, "court": "CNDA", "kind": "asylum", "at": at(when), **extra}


def feed(*states: CaseState, name: str | None = None, now: datetime = NOW, lang: str = "en") -> Calendar:
    cases = [FeedCase(CASE, 7, NOW - timedelta(days=1), s, name) for s in states]
    raw = build_calendar(cases, now, OFFSETS, calendar_id="link-1", case_url="https://vigil.example/cases/{case_id}",
                         lang=lang)
    return Calendar.from_ical(raw)


def test_every_kind_of_date_becomes_one_event_and_done_ones_none():
    state = CaseState(opened=True, timezone="Europe/Paris",
                      hearings=(hearing(NOW + timedelta(days=5)), hearing(NOW + timedelta(days=6), "h2", done=True)),
                      deadlines=({"event_id": "d1", "kind": "appeal", "at": at(NOW + timedelta(days=2))},),
                      removal={"event_id": "r1", "at": at(NOW + timedelta(days=9)), "window_start": None,
                               "window_end": None, "destination": "UZ"},
                      interim_measures=({"body": "ECtHR", "since": at(NOW), "expires_at": at(NOW + timedelta(days=30)),
                                         "event_id": "m1"},))
    events = feed(state).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [
        "Deadline: appeal (case 0a1b2c3d)", "Hearing: asylum, CNDA (case 0a1b2c3d)",
        "Removal to UZ (case 0a1b2c3d)", "Interim measure (ECtHR) expires (case 0a1b2c3d)"]
    assert all(str(e["url"]) == f"https://vigil.example/cases/{CASE}" for e in events)
    assert all(int(e["sequence"]) == 7 for e in events)


def test_a_removal_keeps_its_uid_when_it_moves_from_a_moment_to_a_window():
    moment = CaseState(removal={"event_id": "r1", "at": at(NOW + timedelta(days=3)), "window_start": None,
                                "window_end": None, "destination": "UZ"})
    window = CaseState(removal={"event_id": "r2", "at": None, "window_start": at(NOW + timedelta(days=4)),
                                "window_end": at(NOW + timedelta(days=6)), "destination": "UZ"})
    (first,), (second,) = feed(moment).walk("VEVENT"), feed(window).walk("VEVENT")
    assert first["uid"] == second["uid"]
    assert second.end - second.start == timedelta(days=2)


def test_a_measure_granted_again_keeps_its_uid_and_takes_the_new_expiry():
    def granted(event_id, days):
        return CaseState(interim_measures=({"body": "UN_CAT", "since": at(NOW), "event_id": event_id,
                                            "expires_at": at(NOW + timedelta(days=days))},))
    (first,), (again,) = feed(granted("m1", 10)).walk("VEVENT"), feed(granted("m2", 40)).walk("VEVENT")
    assert first["uid"] == again["uid"] and again.start - first.start == timedelta(days=30)


def test_times_are_local_to_the_case_and_utc_without_a_zone():
    when = datetime(2026, 12, 3, 5, 30, tzinfo=timezone.utc)
    cal = feed(CaseState(timezone="America/New_York", hearings=(hearing(when),)))
    (event,) = cal.walk("VEVENT")
    assert event.start == datetime(2026, 12, 3, 0, 30, tzinfo=ZoneInfo("America/New_York"))
    assert [str(z["tzid"]) for z in cal.walk("VTIMEZONE")] == ["America/New_York"]
    (plain,) = feed(CaseState(hearings=(hearing(when),))).walk("VEVENT")
    assert plain.start == when and plain.start.utcoffset() == timedelta(0)


def test_alarms_at_each_offset_still_ahead_only():
    soon = feed(CaseState(hearings=(hearing(NOW + timedelta(hours=30)),)))
    assert sorted(a["trigger"].dt for a in soon.walk("VALARM")) == [-timedelta(hours=24), -timedelta(hours=2)]
    later = feed(CaseState(hearings=(hearing(NOW + timedelta(days=10)),)))
    assert sorted(a["trigger"].dt for a in later.walk("VALARM")) == sorted(-o for o in OFFSETS)
    assert {str(a["action"]) for a in later.walk("VALARM")} == {"DISPLAY"}


def test_the_name_appears_only_when_given_and_summaries_follow_the_links_language():
    state = CaseState(deadlines=({"event_id": "d1", "kind": "appeal", "at": at(NOW + timedelta(days=2))},))
    assert str(feed(state, name="Ayşe Example").walk("VEVENT")[0]["summary"]) == "Deadline: appeal (Ayşe Example)"
    assert "Ayşe" not in feed(state).to_ical().decode()
    assert str(feed(state, lang="fr").walk("VEVENT")[0]["summary"]) == "Délai : appeal (dossier 0a1b2c3d)"


def test_closed_and_deceased_cases_and_dates_past_the_horizon_are_left_out():
    upcoming = (hearing(NOW + timedelta(days=5)),)
    assert feed(CaseState(closed=True, hearings=upcoming)).walk("VEVENT") == []
    assert feed(CaseState(deceased=True, hearings=upcoming)).walk("VEVENT") == []
    recent = hearing(NOW - PAST_HORIZON + timedelta(hours=1))
    old = hearing(NOW - PAST_HORIZON - timedelta(hours=1), "h-old")
    (kept,) = feed(CaseState(hearings=(recent, old))).walk("VEVENT")
    assert "h1" in str(kept["uid"]) and kept.walk("VALARM") == []


def test_a_postponed_hearing_without_a_new_date_is_not_shown():
    state = CaseState(hearings=({"event_id": "h1", "court": "CNDA", "kind": "asylum", "at": None},))
    assert dated(state) == [] and feed(state).walk("VEVENT") == []


def test_an_empty_feed_is_still_a_valid_calendar_with_a_stable_uid():
    cal = feed()
    assert cal.walk("VEVENT") == [] and str(cal["uid"]) == "link-1@vigil"
    assert str(cal["version"]) == "2.0" and cal["prodid"]


def test_line_breaks_in_free_text_cannot_forge_an_entry_and_far_dates_do_not_break_the_feed():
    forged = {"event_id": "h1", "court": "CNDA\r\nEND:VEVENT\r\nBEGIN:VEVENT", "kind": "asylum",
              "at": "9999-12-31T23:59:59.999999Z"}
    for zone in ("Asia/Kathmandu", "Europe/London", None):
        cal = feed(CaseState(timezone=zone, hearings=(forged,)), name="A\nB")
        (event,) = cal.walk("VEVENT")
        assert "END:VEVENT" in str(event["summary"])  # kept as text, inside the one entry
        assert event.start.astimezone(timezone.utc) == datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
