"""Property tests of the projection fold: append order does not matter, and retraction equals absence."""
from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from events.case_projections import advance
from events.projection import CaseState, fold, status_of
from events.records import StoredEvent
from events.risk import LEVELS, assess
from events.timing import Timing

from .event_streams import T0, drafts, stream, with_ids

def incrementally(events: list[StoredEvent]) -> CaseState:
    state, last = CaseState(), None
    for i, event in enumerate(events):
        state, last = advance(state, last, [event], lambda: events[: i + 1])
    return state


@settings(max_examples=300, deadline=None)
@given(drafts, st.randoms(use_true_random=False))
def test_any_append_order_gives_the_state_of_the_sorted_fold(generated, rnd):
    ds, offsets = generated
    items = with_ids(ds, offsets)
    shuffled = items[:]
    rnd.shuffle(shuffled)
    in_time_order = sorted(items, key=lambda i: i[2])
    expected = fold(stream(in_time_order))
    assert incrementally(stream(items)) == expected
    assert incrementally(stream(shuffled)) == expected
    assert fold(stream(shuffled)) == expected


@settings(max_examples=300, deadline=None)
@given(drafts, st.data())
def test_retracting_an_event_equals_never_having_appended_it(generated, data):
    ds, offsets = generated
    items = with_ids(ds, offsets)
    victim = data.draw(st.sampled_from(items))
    retraction = ("EventRetracted", {"event_id": victim[3], "reason": "wrong"}, 0, str(uuid.uuid4()))
    with_retraction = stream(items + [retraction])
    without = stream([i for i in items if i is not victim])
    assert fold(with_retraction) == fold(without)
    assert incrementally(with_retraction) == fold(without)


@settings(max_examples=200, deadline=None)
@given(drafts, st.data())
def test_retracting_the_retraction_restores_the_event(generated, data):
    ds, offsets = generated
    items = with_ids(ds, offsets)
    victim = data.draw(st.sampled_from(items))
    first = ("EventRetracted", {"event_id": victim[3], "reason": "wrong"}, 0, str(uuid.uuid4()))
    second = ("EventRetracted", {"event_id": first[3], "reason": "it was right"}, 0, str(uuid.uuid4()))
    assert fold(stream(items + [first, second])) == fold(stream(items))


@settings(max_examples=300, deadline=None)
@given(drafts, st.integers(min_value=-100, max_value=3000))
def test_risk_is_total_and_explained(generated, hours):
    ds, offsets = generated
    state = fold(stream(with_ids(ds, offsets)))
    risk = assess(state, T0 + timedelta(hours=hours))
    assert risk.level in LEVELS and risk.reasons
    assert status_of(state) in ("monitoring", "in_proceedings", "removal_ordered", "removal_scheduled",
                                "removed", "safe", "deceased", "closed")


TIMINGS = st.builds(Timing, contact_overdue_after=st.sampled_from([timedelta(hours=48), timedelta(hours=5)]),
                    outcome_watch=st.sampled_from([timedelta(days=14), timedelta(hours=30), timedelta(days=200)]),
                    history_horizon=st.sampled_from([timedelta(days=7), timedelta(hours=20), timedelta(days=90)]))


@settings(max_examples=400, deadline=None)
@given(drafts, st.integers(min_value=-100, max_value=3000), st.lists(st.floats(0, 1), min_size=1, max_size=8),
       TIMINGS)
def test_a_list_place_holds_until_its_valid_until(generated, hours, fractions, overdue):
    """The case list trusts a stored place until valid_until: neither the rank nor the next date may change
    before it, whatever the events and the time."""
    from events.records import parse_iso
    from events.risk import NEVER, list_place

    ds, offsets = generated
    state = fold(stream(with_ids(ds, offsets)))
    now = T0 + timedelta(hours=hours, minutes=17)
    place = list_place(state, now, overdue)
    end = T0 + timedelta(hours=4000) if place.valid_until == NEVER else parse_iso(place.valid_until)
    assert end >= now
    if end == now:
        return
    for t in [now, end - timedelta(microseconds=1)] + [now + (end - now) * f for f in fractions]:
        if now <= t < end:
            later = list_place(state, t, overdue)
            assert (later.rank, later.current, later.next_at) == (place.rank, place.current, place.next_at), t
