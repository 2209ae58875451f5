"""Times in alert titles and channel messages: the case's local time first, UTC beside; dates at their precision."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from events.projection import CaseState
from events.records import StoredEvent
from events.reminders import local_and_utc
from notifications.message import AlertMessage
from notifications.rules import alerts_for


def stored(type_: str, data: dict) -> StoredEvent:
    at = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    return StoredEvent(position=1, event_id="e", stream_id="c", version=2, type=type_, schema_version=1,
                       occurred_at=at, date_precision="exact", recorded_at=at, actor="t", data_text=json.dumps(data),
                       source_text=None, prev_hash="p", hash="h")


def test_event_titles_show_the_cases_local_time_first_with_utc_beside():
    event = stored("RemovalScheduled", {"at": "2026-12-03T05:30:00Z", "destination": "UZ"})
    paris = alerts_for(event, CaseState(opened=True, timezone="Europe/Paris"))[0].title
    assert paris == "Removal to UZ scheduled for 2026-12-03 06:30 CET (Europe/Paris; 05:30 UTC)"
    assert alerts_for(event, CaseState(opened=True))[0].title == "Removal to UZ scheduled for 2026-12-03 05:30 UTC"
    hearing = stored("HearingScheduled", {"court": "CNDA", "kind": "appeal", "at": "2026-12-03T23:30:00Z"})
    assert alerts_for(hearing, CaseState(opened=True, timezone="Europe/Paris"))[0].title == \
        "appeal hearing set for 2026-12-04 00:30 CET (Europe/Paris; 2026-12-03 23:30 UTC)"  # UTC on another day


def test_utc_beside_local_says_its_own_date_when_it_differs():
    at = datetime(2026, 12, 3, 23, 30, tzinfo=timezone.utc)
    assert local_and_utc(at, "Asia/Tashkent") == "2026-12-04 04:30 +05 (Asia/Tashkent; 2026-12-03 23:30 UTC)"
    assert local_and_utc(at, "UTC") == "2026-12-03 23:30 UTC"


def test_channel_messages_show_local_time_and_dates_at_their_precision():
    def message(precision: str, zone: str | None) -> AlertMessage:
        return AlertMessage("raised", "d", "a", "event.Detained", "high", "Detained", "c", "https://x/cases/c", "e",
                            "Detained", datetime(2023, 12, 14, tzinfo=timezone.utc),
                            datetime(2026, 12, 3, 5, 30, tzinfo=timezone.utc), False, None, zone, precision)
    assert message("day", "America/Los_Angeles").occurred_text == "14 Dec 2023"
    assert message("month", None).occurred_text == "December 2023"
    assert message("exact", "Europe/Paris").occurred_text == "2023-12-14 01:00 CET (Europe/Paris; 00:00 UTC)"
    assert message("exact", "Europe/Paris").due_text == "2026-12-03 06:30 CET (Europe/Paris; 05:30 UTC)"
