"""Subscription matching (pure): team scoping first, then each filter field narrows; stored filters parsed once."""
from __future__ import annotations

import pytest

from events.projection import CaseState
from notifications.matching import Audience, Filter, matches, parse_filter

CASE = CaseState(opened=True, country="FR", origin_country="UZ", tags=("watch", "minor"), teams=("paris",))


def hears(filter_: Filter = Filter(), team="paris", all_teams=False, case=CASE, severity="high",
          event_type: str | None = "Detained", case_id="c1") -> bool:
    return matches(Audience(team, all_teams, filter_), case_id, case, severity, event_type)


def test_an_empty_filter_hears_everything_of_its_own_team():
    assert hears() and hears(severity="info", event_type=None)


def test_a_team_never_hears_of_another_teams_case_whatever_its_filter():
    assert not hears(team="lyon")
    assert not hears(Filter(case_ids=("c1",)), team="lyon")
    assert hears(team="lyon", all_teams=True)  # an admin's all-teams subscription


def test_case_ids():
    assert hears(Filter(case_ids=("c0", "c1")))
    assert not hears(Filter(case_ids=("c2",)))


@pytest.mark.parametrize("countries, heard", [(("FR",), True), (("UZ",), True), (("KZ", "UZ"), True),
                                              (("KZ",), False)])
def test_countries_match_the_country_or_the_country_of_origin(countries, heard):
    assert hears(Filter(countries=countries)) is heard


def test_tags_match_if_any_is_shared():
    assert hears(Filter(tags=("other", "minor")))
    assert not hears(Filter(tags=("other",)))
    assert not hears(Filter(tags=("watch",)), case=CaseState(opened=True, teams=("paris",)))


def test_event_types_refuse_alerts_with_no_event_type_when_set():
    assert hears(Filter(event_types=("Detained", "Removed")))
    assert not hears(Filter(event_types=("Removed",)))
    assert not hears(Filter(event_types=("Removed",)), event_type=None)


@pytest.mark.parametrize("severity, heard", [("info", False), ("warning", False), ("high", True),
                                             ("critical", True)])
def test_min_severity_is_inclusive(severity, heard):
    assert hears(Filter(min_severity="high"), severity=severity) is heard


def test_every_field_must_match():
    both = Filter(countries=("FR",), tags=("watch",), event_types=("Detained",), min_severity="warning")
    assert hears(both)
    assert not hears(both, severity="info")
    assert not hears(both, event_type="Removed")


def test_a_stored_filter_is_read_with_missing_or_null_fields_as_empty():
    assert parse_filter('{"countries": ["FR"], "tags": null}') == Filter(countries=("FR",))
    assert parse_filter("{}") == Filter()
    stored = '{"case_ids": ["c1"], "countries": [], "tags": ["x"], "event_types": ["Removed"], "min_severity": "high"}'
    assert parse_filter(stored) == Filter(("c1",), (), ("x",), ("Removed",), "high")
    assert parse_filter(stored) is parse_filter(stored)  # parsed once per distinct text
