"""breach.interim_measure is a property of the folded state: random append orders of the same facts (late reports,
retractions and re-recorded events included) through the real store and outbox raise it once per combination."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from notifications.tables import alerts

from ..conftest import START
from .helpers.cases import append, open_case

OFFSETS = st.integers(min_value=-400, max_value=-1)  # hours before the clock's start: late reports included


@st.composite
def scenarios(draw):
    """(removal kind, appends) where each append is (name, type, hours, target name or None)."""
    kind = draw(st.sampled_from(["RemovalScheduled", "Removed"]))
    removal_at = draw(OFFSETS)
    measure_at = draw(OFFSETS.filter(lambda h: h != removal_at))  # no tie: the fold order would be append order
    order: list[tuple[str, str, int, str | None]] = [("M", "InterimMeasureGranted", measure_at, None),
                                                    ("R", kind, removal_at, None)]
    if draw(st.booleans()):
        order.reverse()
    victim = draw(st.sampled_from([None, "M", "R"]))
    if victim:
        after = next(i for i, step in enumerate(order) if step[0] == victim) + 1
        at = draw(st.integers(min_value=after, max_value=len(order)))
        order.insert(at, ("X", "EventRetracted", 0, victim))
        if draw(st.booleans()):  # recorded again, as a new event
            original = next(step for step in order if step[0] == victim)
            again = draw(st.integers(min_value=at + 1, max_value=len(order)))
            order.insert(again, (victim + "2", original[1], original[2], None))
    return kind, order


def expected(kind: str, order) -> tuple[set, set]:
    """Every (removal, measure) pair that stood together after some append, and those later retracted: worked out
    from the facts, not from the fold."""
    hours = {name: h for name, _, h, _ in order}
    live: list[str] = []
    seen: set[tuple[str, str]] = set()
    retracted: set[str] = set()
    for name, _, _, target in order:
        if target:
            live.remove(target)
            retracted.add(target)
        else:
            live.append(name)
        for r in (n for n in live if n.startswith("R")):
            for m in (n for n in live if n.startswith("M")):
                # Scheduled while a measure is in force now; carried out after the measure was granted.
                if kind == "RemovalScheduled" or hours[m] < hours[r]:
                    seen.add((r, m))
    return seen, {pair for pair in seen if set(pair) & retracted}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios())
def test_a_breach_fires_once_per_combination_whatever_the_order(client, box, scenario):
    kind, order = scenario
    case_id = open_case(client)
    ids: dict[str, str] = {}
    for name, type_, hours, target in order:
        if type_ == "EventRetracted":
            data = {"event_id": ids[target], "reason": "recorded in error"}
        elif type_ == "InterimMeasureGranted":
            data = {"body": "ECtHR"}
        elif type_ == "RemovalScheduled":
            data = {"at": (START + timedelta(days=5)).isoformat(), "destination": "UZ"}
        else:
            data = {"method": "deported", "destination": "UZ"}
        response = append(client, case_id, type_, data, occurred_at=(START + timedelta(hours=hours)).isoformat())
        assert response.status_code == 201, response.text
        ids[name] = response.json()["event_id"]
    with box.engine.connect() as conn:
        raised = conn.execute(select(alerts.c.dedupe_key, alerts.c.state, alerts.c.severity).where(
            alerts.c.case_id == case_id, alerts.c.rule == "breach.interim_measure")).all()
    pairs, withdrawn = expected(kind, order)
    assert sorted(r.dedupe_key for r in raised) == sorted(f"breach:{ids[r]}:{ids[m]}" for r, m in pairs)
    assert {r.dedupe_key for r in raised if r.state == "withdrawn"} == {
        f"breach:{ids[r]}:{ids[m]}" for r, m in withdrawn}
    assert all(r.severity == "critical" for r in raised)


def test_the_measure_coming_second_raises_the_breach(client, box):
    case_id = open_case(client)
    append(client, case_id, "RemovalScheduled", {"at": (START + timedelta(days=2)).isoformat(), "destination": "UZ"},
           occurred_at=(START - timedelta(hours=3)).isoformat())
    append(client, case_id, "InterimMeasureGranted", {"body": "UN_CAT"},
           occurred_at=(START - timedelta(hours=1)).isoformat())
    with box.engine.connect() as conn:
        titles = conn.execute(select(alerts.c.title).where(alerts.c.case_id == case_id,
                                                           alerts.c.rule == "breach.interim_measure")).scalars().all()
    assert titles == ["Removal scheduled despite UN Committee against Torture interim measure"]
