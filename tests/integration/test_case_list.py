"""The case list read in SQL from stored places: the same order as assessing every case at `now`, whether or not
the scheduler tick has placed the cases since time moved or events came in; teams and filters in SQL."""
from __future__ import annotations

from datetime import timedelta

from events.case_projections import CaseProjections
from events.projection import upcoming
from events.risk import assess, passed_dates
from events.timing import Timing
from service.keys import KeyService

from .helpers.cases import append, open_case


def reference(box, now, who_team=None, **filters) -> list[str]:
    """The order as the list computed it before places were stored: assess every visible case at `now`."""
    timing = Timing.from_settings(box.settings)
    with box.engine.connect() as conn:
        rows = [r for r in CaseProjections.all(conn, filters.get("status")) if who_team is None or who_team in r.state.teams]
    keyed = []
    for row in rows:
        risk = assess(row.state, now, timing)
        if filters.get("risk") and risk.level != filters["risk"]:
            continue
        if filters.get("tag") and filters["tag"] not in row.state.tags:
            continue
        # Dates passed without outcome first, then what is coming; a level's old crises after its current ones.
        coming = passed_dates(row.state, now, timing) + upcoming(row.state, now)
        current = not risk.chronic(now, timing.history_horizon)
        keyed.append(((-risk.rank, not current, coming[0]["at"] if coming else "9999", row.case_id), row.case_id))
    return [case_id for _, case_id in sorted(keyed)]


def listed(client, headers=None, limit=3, **params) -> list[str]:
    """Every page of the list, following the cursor."""
    ids, cursor = [], None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/cases", params=query, headers=headers or {}).json()
        ids += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def at(clock, days: float) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


def test_the_order_is_the_one_now_gives_before_and_after_the_tick_places_the_cases(client, box, clock):
    start = clock.now()
    calm = open_case(client, tags=["calm"])
    hearing_far = open_case(client)
    append(client, hearing_far, "HearingScheduled", {"court": "c", "kind": "appeal", "at": at(clock, 10)})
    hearing_near = open_case(client)
    append(client, hearing_near, "HearingScheduled", {"court": "c", "kind": "appeal", "at": at(clock, 4.5)})
    removal = open_case(client, tags=["removal"])
    append(client, removal, "RemovalScheduled", {"at": at(clock, 6), "destination": "UZ"})
    window = open_case(client)
    append(client, window, "RemovalScheduled", {"window_start": at(clock, 2), "window_end": at(clock, 3),
                                                "destination": "TJ"})
    removed = open_case(client)
    append(client, removed, "Removed", {"method": "deported", "destination": "UZ"}, occurred_at=at(clock, 0))
    deadline = open_case(client)
    append(client, deadline, "DeadlineSet", {"kind": "appeal", "at": at(clock, 1)})
    assert {calm, hearing_far, hearing_near, removal, window, removed, deadline} == set(reference(box, clock.now()))

    seen_orders = set()
    # Each step crosses at least one boundary (a date coming within 72 h, a window opening or closing, a date
    # passing, contact after removal becoming overdue) and none falls within milliseconds of one, since the
    # test clock steps 1 ms per reading.
    for days in (0, 0.5, 1.6, 2.1, 2.6, 3.2, 4, 5.3, 7.2, 11):
        clock.set(start + timedelta(days=days))
        expected = reference(box, clock.now())
        assert listed(client) == expected, f"day {days}, before the tick"
        box.ticker.tick()
        assert listed(client) == expected, f"day {days}, after the tick"
        seen_orders.add(tuple(expected))
        # Filters go through SQL too.
        assert listed(client, risk="critical") == reference(box, clock.now(), risk="critical")
        assert listed(client, tag="removal") == reference(box, clock.now(), tag="removal")
    assert len(seen_orders) >= 5  # time really reordered the list

    # An append changes a placed case: it is placed anew at once and the list shows the new order.
    box.ticker.tick()
    append(client, calm, "WhereaboutsUnknown", occurred_at=clock.now().isoformat())
    assert listed(client).index(calm) < 2 and listed(client) == reference(box, clock.now())  # now critical


def test_the_tick_places_only_what_has_lapsed(client, box, clock):
    """An append places its case as it writes the new state; the tick re-places only what time made lapse."""
    ids = [open_case(client) for _ in range(4)]
    append(client, ids[0], "HearingScheduled", {"court": "c", "kind": "appeal", "at": at(clock, 4)})
    assert box.ticker.tick()["placed"] == 0
    append(client, ids[1], "NoteAdded", {"text": "no change to the state"}, occurred_at=clock.now().isoformat())
    append(client, ids[2], "Detained", {"place": "Nice"}, occurred_at=clock.now().isoformat())
    assert box.ticker.tick()["placed"] == 0
    assert listed(client, limit=10) == reference(box, clock.now())
    clock.advance(timedelta(days=1.5))  # the hearing comes within 72 hours of now: only that case's place lapses
    assert box.ticker.tick()["placed"] == 1
    assert box.ticker.tick()["placed"] == 0
    clock.advance(timedelta(days=3))  # the hearing has passed: again only that case
    assert box.ticker.tick()["placed"] == 1


def test_a_team_sees_its_own_cases_only_and_team_names_are_case_sensitive(client, box, clock):
    lower = open_case(client, teams=["alpha"])
    other = open_case(client, teams=["alpha_2"])
    upper_key = KeyService(box.engine, box.clock).create("viewer", "Alpha", "upper")
    lower_key = KeyService(box.engine, box.clock).create("viewer", "alpha", "lower")
    like_key = KeyService(box.engine, box.clock).create("viewer", "alpha%", "wildcard")
    box.ticker.tick()
    for _ in range(2):  # placed, then lapsed again
        assert listed(client, headers={"Authorization": f"Bearer {lower_key}"}) == [lower]
        assert listed(client, headers={"Authorization": f"Bearer {upper_key}"}) == []
        assert listed(client, headers={"Authorization": f"Bearer {like_key}"}) == []
        assert set(listed(client)) >= {lower, other}  # admin
        append(client, lower, "Detained", {"place": "Nice"}, occurred_at=clock.now().isoformat())
        append(client, other, "Detained", {"place": "Nice"}, occurred_at=clock.now().isoformat())


def test_the_sql_team_filter_is_exact(client, box, clock):
    """Beneath the service's own check: the query itself must not let "Alpha" or "alpha%" match team "alpha"."""
    from events.case_list import ListFilter, list_page

    lower = open_case(client, teams=["alpha"])
    open_case(client, teams=["alpha_2"])
    for placed in (False, True):
        if placed:
            box.ticker.tick()
        with box.engine.connect() as conn:
            for team, expected in (("alpha", [lower]), ("Alpha", []), ("alpha%", []), ("alph", [])):
                page, more = list_page(conn, ListFilter(team=team), clock.now(), timedelta(days=2), 0, 10)
                assert [c.case_id for c in page] == expected and not more, (team, placed)


def test_an_unknown_risk_or_status_is_refused_not_an_empty_list(client):
    open_case(client)
    for params in ({"risk": "apocalyptic"}, {"status": "unheard-of"}):
        response = client.get("/v1/cases", params=params)  # an empty list would read as "no such cases"
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", *params]
