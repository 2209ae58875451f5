"""Property tests of the projection fold: append order does not matter, and retraction equals absence."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from events.case_projections import advance
from events.projection import CaseState, fold, status_of
from events.records import StoredEvent
from events.risk import LEVELS, assess
from events.timing import Timing

T0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
BODIES = st.sampled_from(["ECtHR", "UN_CAT", "UN_HRC"])
EARLIER = st.integers(min_value=1, max_value=25).map(lambda i: str(uuid.UUID(int=i)))
WHEN = st.integers(min_value=0, max_value=2000).map(lambda h: (T0 + timedelta(hours=h)).isoformat())

DATA = {
    "Detained": st.fixed_dictionaries({"place": st.sampled_from(["Almaty", "Nice"])}),
    "Released": st.just({}),
    "ExtraditionRequested": st.fixed_dictionaries({"requesting_state": st.just("UZ"), "charges": st.just([])}),
    "ExtraditionOrdered": st.just({}),
    "ExtraditionRefused": st.just({}),
    "AsylumClaimLodged": st.just({}),
    "AsylumDecided": st.fixed_dictionaries({"outcome": st.sampled_from(["granted", "refused", "inadmissible"])}),
    "AppealFiled": st.just({}),
    "AppealDecided": st.fixed_dictionaries({"outcome": st.sampled_from(["allowed", "dismissed"])}),
    "HearingScheduled": st.fixed_dictionaries({"court": st.just("court"), "kind": st.just("appeal"), "at": WHEN}),
    "DeadlineSet": st.fixed_dictionaries({"kind": st.just("appeal"), "at": WHEN}),
    "RemovalOrderIssued": st.just({}),
    "RemovalScheduled": st.one_of(
        st.fixed_dictionaries({"at": WHEN, "destination": st.just("UZ")}),
        st.tuples(st.integers(0, 2000), st.integers(1, 200)).map(lambda w: {
            "window_start": (T0 + timedelta(hours=w[0])).isoformat(),
            "window_end": (T0 + timedelta(hours=w[0] + w[1])).isoformat(), "destination": "UZ"})),
    "RemovalCancelled": st.just({}),
    "RemovalNotCarriedOut": st.just({}),
    # Outcomes name an earlier event by id; ids are UUID(int=1..25) by position (see with_ids), any may match.
    "HearingHeld": st.fixed_dictionaries({"hearing_event_id": EARLIER, "outcome": st.just("decided")}),
    "DeadlineMet": st.fixed_dictionaries({"deadline_event_id": EARLIER}),
    "InterimMeasureRequested": st.fixed_dictionaries({"body": BODIES}),
    "InterimMeasureGranted": st.fixed_dictionaries({"body": BODIES}, optional={"expires_at": WHEN}),
    "InterimMeasureLifted": st.fixed_dictionaries({"body": BODIES}),
    "Removed": st.fixed_dictionaries({"method": st.just("deported"), "destination": st.just("UZ")}),
    "DetainedOnReturn": st.just({}),
    "WhereaboutsUnknown": st.just({}),
    "ContactEstablished": st.fixed_dictionaries({"with_whom": st.just("family")}),
    "Sentenced": st.fixed_dictionaries({"term": st.just("10 years")}),
    "IllTreatmentReported": st.just({}),
    "Deceased": st.just({}),
    "Resettled": st.fixed_dictionaries({"country": st.just("SE")}),
    "CaseClosed": st.fixed_dictionaries({"reason": st.just("done")}),
    "CaseReopened": st.just({}),
    "NoteAdded": st.fixed_dictionaries({"text": st.just("note")}),
}

# (type, data, hour offset of occurred_at); offsets are unique so the fold order is a total order.
draft = st.sampled_from(sorted(DATA)).flatmap(lambda t: st.tuples(st.just(t), DATA[t]))
drafts = st.lists(draft, min_size=1, max_size=25).flatmap(
    lambda ds: st.tuples(st.just(ds), st.permutations(list(range(1, len(ds) + 1)))))


def _json(data: dict) -> str:
    import json
    return json.dumps(data, sort_keys=True)


def stream(items: list[tuple[str, dict, int, str]]) -> list[StoredEvent]:
    """Events appended in the given order; each item is (type, data, hour offset, event_id)."""
    opened = StoredEvent(1, str(uuid.UUID(int=0)), "s", 1, "CaseOpened", 1, T0, "exact", T0, "a",
                         _json({"person": "v1.x", "country": "KZ", "teams": []}), None, "", "")
    out = [opened]
    for version, (kind, data, hours, event_id) in enumerate(items, start=2):
        at = T0 + timedelta(hours=hours, minutes=1)
        out.append(StoredEvent(version, event_id, "s", version, kind, 1, at, "exact",
                               T0 + timedelta(days=400, seconds=version), "a", _json(data), None, "", ""))
    return out


def incrementally(events: list[StoredEvent]) -> CaseState:
    state, last = CaseState(), None
    for i, event in enumerate(events):
        state, last = advance(state, last, [event], lambda: events[: i + 1])
    return state


def with_ids(ds, offsets):
    return [(kind, data, offset, str(uuid.UUID(int=i + 1))) for i, ((kind, data), offset) in enumerate(zip(ds, offsets))]


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
