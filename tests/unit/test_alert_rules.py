"""Alert rules (pure): one event alert per appended event, its default severity, and a one-line impersonal title."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from events.catalogue import EVENT_TYPES
from events.projection import CaseState
from events.records import StoredEvent
from notifications.rules import SEVERITIES, AlertDraft, alerts_for, event_title, severity_rank

AT = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
CASE = CaseState(opened=True, country="FR")


def stored(type_: str, data: dict | None = None, event_id: str = "e1") -> StoredEvent:
    return StoredEvent(1, event_id, "case-1", 2, type_, 1, AT, "exact", AT, "t", json.dumps(data or {}), None, "", "")


def test_an_appended_event_raises_one_alert_at_its_types_default_severity():
    assert alerts_for(stored("Detained", {"place": "Nice"}), CASE) == [
        AlertDraft("event.Detained", "high", "Detained in Nice", "e1", "event:case-1:e1")]
    assert [a.severity for a in alerts_for(stored("Removed", {"method": "deported", "destination": "UZ"}), CASE)] \
        == ["critical"]


def test_each_appendable_type_raises_exactly_its_own_alert():
    for name, kind in EVENT_TYPES.items():
        if kind.system_only or name == "EventRetracted":
            continue
        [draft] = alerts_for(stored(name, {"body": "ECtHR", "destination": "UZ", "method": "deported",
                                          "requesting_state": "UZ", "outcome": "granted", "kind": "appeal",
                                          "country": "DE", "at": "2026-12-01T10:00:00Z"}), CASE)
        assert draft.rule == f"event.{name}" and draft.severity == kind.default_severity
        assert draft.dedupe_key == "event:case-1:e1" and draft.due_at is None and not draft.late


@pytest.mark.parametrize("type_", ["PersonalDataErased", "EventRetracted", "NoSuchType"])
def test_system_events_retractions_and_unknown_types_raise_nothing(type_):
    assert alerts_for(stored(type_), CASE) == []


@pytest.mark.parametrize("type_, data, title", [
    ("Detained", {}, "Detained"),
    ("ExtraditionRequested", {"requesting_state": "UZ"}, "Extradition requested by UZ"),
    ("InterimMeasureGranted", {"body": "ECtHR"}, "ECtHR interim measure granted"),
    ("InterimMeasureLifted", {"body": "OTHER_BODY"}, "OTHER_BODY interim measure lifted"),  # unnamed: as given
    ("AsylumDecided", {"outcome": "refused"}, "Asylum decision: refused"),
    ("Resettled", {"country": "DE"}, "Resettled in DE"),
    ("IllTreatmentReported", {}, "Ill treatment reported"),  # no wording of its own: the type name spaced
    ("DiplomaticAssurancesOffered", {}, "Diplomatic assurances offered"),
])
def test_titles_are_plain_words_from_non_personal_fields(type_, data, title):
    assert event_title(stored(type_, data)) == title


def test_a_title_is_one_line_and_at_most_300_characters_whatever_the_stored_data():
    assert event_title(stored("Detained", {"place": "Nice\r\n\x00Injected: header"})) == "Detained in Nice Injected: header"
    assert len(event_title(stored("Detained", {"place": "x" * 1000}))) == 300


def test_a_title_never_holds_the_persons_name():
    title = event_title(stored("Detained", {"place": "Nice", "person": {"name": "Jane Doe"}, "note": "Jane Doe"}))
    assert "Jane" not in title


def test_severities_rank_in_order():
    assert [severity_rank(s) for s in SEVERITIES] == [0, 1, 2, 3]
    assert severity_rank("critical") > severity_rank("high") > severity_rank("warning") > severity_rank("info")
    with pytest.raises(ValueError):
        severity_rank("urgent")
