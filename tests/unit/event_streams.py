"""Event streams for the pure tests: hypothesis strategies of any case history, and streams built from tuples."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from events.records import StoredEvent

NOW = datetime(2023, 11, 14, 9, 0, tzinfo=timezone.utc)


def case(*events: tuple) -> list[StoredEvent]:
    """A stream from (type, data, occurred_at[, event_id]) tuples, appended in the order given."""
    out = [StoredEvent(1, str(uuid.uuid4()), "s", 1, "CaseOpened", 1, NOW - timedelta(days=400), "exact",
                       NOW - timedelta(days=400), "a", json.dumps({"person": "v1.x", "country": "FR",
                                                                   "teams": []}), None, "", "")]
    for version, (kind, data, at, *given_id) in enumerate(events, start=2):
        out.append(StoredEvent(version, given_id[0] if given_id else str(uuid.uuid4()), "s", version, kind, 1, at, "exact", at, "a",
                               json.dumps(data), None, "", ""))
    return out


def days(n: float) -> datetime:
    return NOW + timedelta(days=n)


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


def with_ids(ds, offsets):
    return [(kind, data, offset, str(uuid.UUID(int=i + 1))) for i, ((kind, data), offset) in enumerate(zip(ds, offsets))]
