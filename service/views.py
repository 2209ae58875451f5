"""Pure rendering of projections and events into the API's JSON shapes."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from events.projection import CaseState, measures_in_force, status_of, upcoming
from events.records import StoredEvent, iso
from events.risk import assess, passed_dates
from events.timing import Timing


def case_view(case_id: str, version: int, state: CaseState, now: datetime, timing: Timing | timedelta,
              person: dict[str, Any] | None = None, include_person: bool = False) -> dict[str, Any]:
    risk = assess(state, now, timing)
    # Dates passed with no outcome recorded come first, marked overdue: the most pressing "next date" of all.
    coming = ([{**i, "overdue": True} for i in passed_dates(state, now, Timing.of(timing))]
              + [{**i, "overdue": False} for i in upcoming(state, now)])
    view: dict[str, Any] = {
        "id": case_id,
        "version": version,
        "status": status_of(state),
        "after_return": state.after_return,
        "risk": {"level": risk.level, "reasons": risk.reasons},
        "detained": state.detained,
        "detained_place": state.detained_place if state.detained else None,
        "interim_measures": [{"body": m["body"], "since": m["since"], "expires_at": m["expires_at"]}
                             for m in measures_in_force(state, now)],
        "interim_measures_requested": list(state.measures_requested),
        "asylum": state.asylum,
        "extradition": state.extradition,
        "requesting_state": state.requesting_state,
        "removal": state.removal,
        "removed": state.removed,
        "last_contact_at": state.last_contact_at,
        "upcoming": coming,
        "next_deadline": coming[0] if coming else None,
        "country": state.country,
        "origin_country": state.origin_country,
        "tags": list(state.tags),
        "teams": list(state.teams),
        "summary": state.summary,
        "timezone": state.timezone,
        "personal_data_erased": state.personal_data_erased,
        "as_at": iso(now),
    }
    if include_person:
        view["person"] = person
    return view


def event_item(event: StoredEvent, data: dict[str, Any], retracted_by: str | None) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "type": event.type,
        "version": event.version,
        "position": event.position,
        "log_index": event.log_index,
        "stream_id": event.stream_id,
        "occurred_at": iso(event.occurred_at),
        "date_precision": event.date_precision,
        "recorded_at": iso(event.recorded_at),
        "actor": event.actor,
        "data": data,
        "source": event.source,
        "retracted_by": retracted_by,
        "hash": event.hash,
    }


def merge_person(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The opening person record with later updates laid over it (only fields an update gives)."""
    person: dict[str, Any] = {}
    for part in parts:
        person.update({k: v for k, v in part.items() if v is not None})
    return person
