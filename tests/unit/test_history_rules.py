"""Property tests of the history rules: a risk rise always says so and only then; dates at their precision;
the bounded daily contact check."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from events.projection import fold
from events.reminders import contact_checks_end, next_contact_check
from events.risk import assess
from notifications.history import LEVEL_SEVERITY, is_history, latest_moment, risk_raised

from .event_streams import T0, drafts, stream, with_ids

HOURS = st.integers(min_value=-100, max_value=3000)
AFTER = timedelta(days=2)


@settings(max_examples=200, deadline=None)
@given(drafts, st.integers(min_value=0, max_value=24), HOURS)
def test_risk_raised_fires_exactly_on_a_rise_or_a_new_critical_reason(generated, cut, hours):
    ds, offsets = generated
    items = with_ids(ds, offsets)
    cut = min(cut, len(items) - 1)
    before, after = fold(stream(items[:cut])), fold(stream(items))
    now = T0 + timedelta(hours=hours)
    old, new = assess(before, now, AFTER), assess(after, now, AFTER)
    draft = risk_raised(before, after, now, AFTER, "e1")
    added = [r for r in new.reasons if r not in old.reasons]
    if new.rank > old.rank and new.level != "resolved" or (new.level == "critical" and added):
        assert draft is not None
        assert draft.rule == "risk.raised" and draft.severity == LEVEL_SEVERITY[new.level]
        assert draft.dedupe_key == "risk:e1" and draft.event_id == "e1"
        assert all(reason in draft.title for reason in added[:1])
    else:
        assert draft is None
    assert risk_raised(after, after, now, AFTER, "e1") is None  # nothing changed: nothing to say


@given(st.datetimes(min_value=T0.replace(tzinfo=None), max_value=T0.replace(tzinfo=None, year=2090)),
       st.sampled_from(["exact", "day", "month", "year"]), st.integers(min_value=0, max_value=400 * 24))
def test_an_event_is_history_only_once_every_moment_its_precision_allows_is_past_the_horizon(
        start, precision, hours):
    occurred = start.replace(tzinfo=T0.tzinfo)
    latest = latest_moment(occurred, precision)
    assert latest > occurred or precision == "exact"
    assert latest - occurred <= timedelta(days=366)
    now = occurred + timedelta(hours=hours)
    horizon = timedelta(days=7)

    class Event:
        occurred_at, date_precision = occurred, precision
    assert is_history(Event, now, horizon) == (now - horizon > latest)
    if is_history(Event, now, horizon):
        Event.date_precision = "exact"
        assert is_history(Event, now, horizon)  # a coarser date is never history before the exact one


@given(st.integers(min_value=0, max_value=80 * 24), st.integers(min_value=0, max_value=40))
def test_the_contact_check_repeats_daily_and_never_past_its_bound(hours, repeat_days):
    removed = T0
    first = removed + AFTER
    end = contact_checks_end(removed, AFTER, timedelta(days=repeat_days))
    now = first + timedelta(hours=hours)
    following = next_contact_check(first, now, end)
    if following is None:
        assert first + timedelta(days=(hours // 24) + 1) > end
    else:
        assert now < following <= end and (following - first) % timedelta(days=1) == timedelta(0)
        assert following - now <= timedelta(days=1)
