"""reminders.decide (pure): after a tick, which due reminders fire, which are skipped and why, and which are late."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from events.reminders import OUTCOME, Decision, Due, decide

NOW = datetime(2027, 3, 20, 8, 0, tzinfo=timezone.utc)
GRACE = timedelta(minutes=15)
HEARING = NOW + timedelta(hours=20)


def due(id_: str, hours_ago: float, kind="hearing", item="h1", item_at=HEARING) -> Due:
    return Due(id_, kind, item, item_at, NOW - timedelta(hours=hours_ago))


def test_nothing_due_decides_nothing():
    assert decide([], NOW, GRACE) == []


def test_a_reminder_due_now_for_a_date_ahead_fires_on_time():
    assert decide([due("r24", 0)], NOW, GRACE) == [Decision("r24", "fire", late=False)]


@pytest.mark.parametrize("minutes, late", [(15, False), (16, True)])
def test_fired_more_than_the_grace_after_its_moment_it_is_late(minutes, late):
    assert decide([due("r", minutes / 60)], NOW, GRACE) == [Decision("r", "fire", late=late)]


def test_after_downtime_only_the_newest_reminder_of_a_date_fires():
    decisions = decide([due("r24", 2), due("r72", 50), due("r48", 26)], NOW, GRACE)
    assert sorted(decisions, key=lambda d: d.id) == [
        Decision("r24", "fire", late=True),
        Decision("r48", "skip", note="a later reminder for the same date was due too"),
        Decision("r72", "skip", note="a later reminder for the same date was due too"),
    ]


def test_dates_are_decided_apart():
    other = NOW + timedelta(days=3)
    decisions = decide([due("a", 1), due("b", 0, item="h2", item_at=other), due("c", 0, kind="deadline")],
                       NOW, GRACE)
    assert {d.id: d.action for d in decisions} == {"a": "fire", "b": "fire", "c": "fire"}


def test_a_moved_date_is_another_date():
    decisions = decide([due("old", 1, item_at=HEARING), due("new", 0, item_at=HEARING + timedelta(days=1))],
                       NOW, GRACE)
    assert {d.id: d.action for d in decisions} == {"old": "fire", "new": "fire"}


@pytest.mark.parametrize("passed", [timedelta(0), timedelta(hours=1)])
def test_a_reminder_of_a_date_that_has_passed_is_skipped_saying_why(passed):
    assert decide([due("r2", 3, item_at=NOW - passed)], NOW, GRACE) == [
        Decision("r2", "skip", note="the date had passed when the reminder came due")]


@pytest.mark.parametrize("kind", ["contact_overdue", OUTCOME])
def test_watches_about_what_has_already_passed_fire_anyway(kind):
    removal = NOW - timedelta(days=3)
    assert decide([due("w", 0, kind=kind, item="rm", item_at=removal)], NOW, GRACE) == [Decision("w", "fire")]
