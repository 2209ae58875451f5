"""Pure dashboard helpers: countdowns, local times, form fields from the catalogue, form values to API bodies."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from service.web.display import countdown, humanize, local_time
from service.web.forms import errors_by_field, event_body, event_fields, subscription_body

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("delta, expected", [
    (timedelta(minutes=45), "in 45 min"), (timedelta(seconds=20), "in 1 min"), (timedelta(hours=31), "in 31 h"),
    (timedelta(hours=71, minutes=59), "in 71 h"), (timedelta(hours=72), "in 3 d"), (timedelta(days=9), "in 9 d"),
    (-timedelta(hours=3), "3 h ago"), (-timedelta(days=4), "4 d ago"),
])
def test_countdown_uses_the_unit_people_act_on(delta, expected):
    assert countdown(NOW + delta, NOW) == expected


def test_end_of_day_is_the_viewers_day():
    from service.web.display import end_of_day

    assert end_of_day("2023-11-01", "Asia/Tashkent") == datetime(2023, 11, 1, 18, 59, 59, 999999, tzinfo=timezone.utc)
    assert end_of_day("2023-11-01", "UTC") == datetime(2023, 11, 1, 23, 59, 59, 999999, tzinfo=timezone.utc)
    for bad in ("yesterday", "2023-13-01", "0001-01-01"):
        with pytest.raises(ValueError):
            end_of_day(bad, "UTC")


def test_local_time():
    assert local_time("2026-07-01T12:00:00Z", "Europe/Paris") == "2026-07-01 14:00 CEST"
    assert local_time("2026-12-01T12:00:00+00:00", "Europe/Paris") == "2026-12-01 13:00 CET"
    assert local_time("2023-11-15T00:00:00+00:00", "Asia/Tashkent", "day") == "15 Nov 2023"
    # A date at its precision, the same in every zone, with no invented time of day.
    for tz in ("Pacific/Kiritimati", "America/Los_Angeles", "Europe/Paris"):
        assert local_time("2023-12-14T00:00:00Z", tz, "day") == "14 Dec 2023"
        assert local_time("2023-12-14T00:00:00Z", tz, "month") == "December 2023"
    assert local_time("2011-05-30T00:00:00+00:00", "UTC", "year") == "2011"
    assert local_time("2026-07-01T12:00:00Z", "Not/AZone") == "2026-07-01 12:00 UTC"
    assert humanize("ExtraditionRequested") == "Extradition requested"
    assert humanize("window_start") == "Window start"


def test_event_fields_follow_the_catalogue():
    fields = {f.name: f for f in event_fields("RemovalScheduled")}
    assert fields["destination"].required and fields["destination"].kind == "country"
    assert fields["at"].kind == "datetime" and not fields["at"].required
    assert list(fields)[-1] == "note"
    assert event_fields("AsylumDecided")[0].options == ("granted", "refused", "inadmissible")
    assert [f.name for f in event_fields("PersonDetailsUpdated")][:2] == ["person.name", "person.aliases"]
    assert {f.kind for f in event_fields("EventRetracted")} >= {"event_ref", "textarea"}


def test_event_body_reads_times_in_the_viewers_zone_and_lists_by_line():
    body, errors = event_body("ExtraditionRequested", {
        "occurred_at": "2026-07-01T09:00", "requesting_state": "tj", "charges": "extremism\n\n membership \n"},
        "Asia/Tashkent")
    assert errors == {}
    assert body["occurred_at"] == "2026-07-01T09:00:00+05:00"
    assert body["data"] == {"requesting_state": "TJ", "charges": ["extremism", "membership"]}
    _, errors = event_body("PersonDetailsUpdated", {"occurred_at": "", "person.birth_year": "nineteen"}, "UTC")
    assert errors == {"occurred_at": "when it happened is required", "person.birth_year": "not a whole number"}


def test_api_errors_map_to_form_fields():
    detail = [{"loc": ["body", "data", "person", "name"], "msg": "too long"},
              {"loc": ["body", "data", "charges", 3], "msg": "too long"},
              {"loc": ["body", "data"], "msg": "Value error, at is required"},
              {"loc": ["source", "url"], "msg": "bad url"}]
    assert errors_by_field(detail) == {"person.name": "too long", "charges": "too long",
                                       "__all__": "at is required", "source_url": "bad url"}


def test_subscription_body_from_the_form():
    body = subscription_body({"name": "Desk", "channel_kind": "matrix", "homeserver": "https://m.org",
                              "room_id": "!r:m.org", "access_token": "t", "countries": "uz, tm",
                              "escalate_after": "pt30m", "escalate_kind": "email", "escalate_to": "a@b.org, c@d.org"},
                             ["Removed"])
    assert body["channel"] == {"kind": "matrix", "homeserver": "https://m.org", "room_id": "!r:m.org",
                               "access_token": "t"}
    assert body["filter"] == {"countries": ["UZ", "TM"], "tags": [], "event_types": ["Removed"]}
    assert body["escalate_after"] == "PT30M"
    assert body["escalate_to"] == {"kind": "email", "to": ["a@b.org", "c@d.org"]}


def test_event_data_in_words():
    from service.web.display import datum

    assert datum({"name": "A", "aliases": [], "birth_year": None, "nationality": "UZ"}, "UTC") == \
        "Name: A; Nationality: UZ"
    assert datum("2030-01-15T06:30:00+05:00", "Europe/Paris") == "2030-01-15 02:30 CET"
    assert datum(["x", "", "y"], "UTC") == "x, y"
    assert datum("2023-11-15 was the day", "UTC") == "2023-11-15 was the day"


def test_alert_titles_give_moments_in_utc_whatever_offset_they_were_entered_with():
    import json

    from events.records import StoredEvent
    from notifications.rules import event_title

    def stored(kind, data):
        return StoredEvent(1, "e", "s", 1, kind, 1, NOW, "exact", NOW, "a", json.dumps(data), None, "", "")

    assert event_title(stored("RemovalScheduled", {"destination": "UZ", "at": "2030-01-15T06:30:00+05:00"})) == \
        "Removal to UZ scheduled for 2030-01-15 01:30 UTC"
    assert event_title(stored("HearingScheduled", {"kind": "appeal", "court": "C", "at": "2026-12-01T10:00:00Z"})) \
        == "appeal hearing set for 2026-12-01 10:00 UTC"


def test_a_retraction_names_what_it_retracts():
    from service.web.display import event_name
    assert event_name({"type": "Detained", "occurred_at": "2023-12-14T00:00:00Z", "date_precision": "day"},
                      "Europe/Paris") == "Detained on 14 Dec 2023"
    assert event_name({"type": "Removed", "occurred_at": "2023-11-15T06:00:00Z", "date_precision": "exact"},
                      "Europe/Paris") == "Removed on 2023-11-15 07:00 CET"
    assert event_name(None, "UTC") == "an event not in this case"


def test_form_errors_read_as_plain_sentences():
    from service.web.forms import data_errors, validate
    from events.catalogue import EVENT_TYPES
    errors = data_errors(EVENT_TYPES["RemovalScheduled"].model, {"destination": "Uzbekistan", "at": "2030-01-01T00:00Z",
                                                                 "route": "x" * 301})
    assert errors == {"destination": "Use a two-letter country code such as FR", "route": "Use at most 300 characters"}
    assert data_errors(EVENT_TYPES["InterimMeasureGranted"].model, {}) == {"body": "This is required"}
    parsed, errors = validate(EVENT_TYPES["RemovalScheduled"].model, {"destination": "uz", "at": "2030-01-01T00:00Z"})
    assert not errors and parsed.destination == "UZ"  # case-insensitive country codes
