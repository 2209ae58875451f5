"""Subscription matching (pure): does an alert about a case go to a subscription?"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from events.projection import CaseState

from .rules import severity_rank


@dataclass(frozen=True)
class Filter:
    case_ids: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    min_severity: str | None = None

    @classmethod
    def from_dict(cls, raw: dict) -> "Filter":
        return cls(tuple(raw.get("case_ids") or ()), tuple(raw.get("countries") or ()), tuple(raw.get("tags") or ()),
                   tuple(raw.get("event_types") or ()), raw.get("min_severity"))


@lru_cache(maxsize=4096)
def parse_filter(stored: str) -> Filter:
    """A stored filter, parsed once per distinct text (every alert reads every subscription's filter)."""
    return Filter.from_dict(json.loads(stored))


@dataclass(frozen=True)
class Audience:
    """Who a subscription speaks for: its team, or every team when an admin made it."""
    team: str
    all_teams: bool = False
    filter: Filter = field(default_factory=Filter)


def matches(audience: Audience, case_id: str, case: CaseState, severity: str, event_type: str | None) -> bool:
    f = audience.filter
    if not audience.all_teams and audience.team not in case.teams:
        return False  # a team never hears of another team's case
    if f.case_ids and case_id not in f.case_ids:
        return False
    if f.countries and case.country not in f.countries and case.origin_country not in f.countries:
        return False
    if f.tags and not set(f.tags) & set(case.tags):
        return False
    if f.event_types and event_type not in f.event_types:
        return False
    if f.min_severity and severity_rank(severity) < severity_rank(f.min_severity):
        return False
    return True
