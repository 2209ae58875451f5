"""The case status projection: a pure fold of a stream's events, honouring retractions and both time axes."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from .records import StoredEvent, iso, parse_iso

# Times inside the state are UTC RFC 3339 strings in one fixed format, so they compare as text.
Item = dict[str, Any]


@dataclass(frozen=True)
class CaseState:
    opened: bool = False
    country: str | None = None
    origin_country: str | None = None
    tags: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    summary: str | None = None
    timezone: str | None = None
    person_tokens: tuple[str, ...] = ()  # sealed person data: the opening one, then updates
    personal_data_erased: bool = False
    detained: bool | None = False  # None: not known (after a removal, or with whereabouts unknown)
    detained_place: str | None = None
    extradition: str = "none"  # none / requested / ordered / refused
    requesting_state: str | None = None
    assurances_offered: bool = False
    asylum: str = "none"  # none / pending / granted / refused / inadmissible / revoked
    appeal_pending: bool = False
    removal_order: bool = False
    removal: Item | None = None  # {event_id, at?, window_start?, window_end?, destination}
    removed: Item | None = None  # {event_id, at, method, destination, despite: [bodies], despite_events: [ids]}
    after_return: str | None = None
    whereabouts_unknown: bool = False
    whereabouts_unknown_since: str | None = None
    last_contact_at: str | None = None
    interim_measures: tuple[Item, ...] = ()  # {body, since, expires_at, event_id}
    measures_requested: tuple[str, ...] = ()
    hearings: tuple[Item, ...] = ()  # {event_id, court, kind, at, done?}: done once its outcome is recorded
    deadlines: tuple[Item, ...] = ()  # {event_id, kind, at, done?}
    charged: bool = False
    sentence: str | None = None
    ill_treatment_reported: bool = False
    ill_treatment_at: str | None = None  # the latest report
    deceased: bool = False
    deceased_at: str | None = None
    resettled_in: str | None = None
    closed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _STATE_FIELDS}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "CaseState":
        # Unknown keys (a field since removed) are dropped; lists come back as the tuples the state holds.
        return cls(**{k: (tuple(v) if type(v) is list else v) for k, v in raw.items() if k in _STATE_FIELD_SET})


_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(CaseState))
_STATE_FIELD_SET = frozenset(_STATE_FIELDS)


class Draft:
    """A mutable working copy of CaseState: a fold assigns fields here and freezes once at the end."""

    __slots__ = tuple(f.name for f in dataclasses.fields(CaseState))

    def __init__(self, state: CaseState):
        for name in self.__slots__:
            setattr(self, name, getattr(state, name))

    def freeze(self) -> CaseState:
        return CaseState(**{name: getattr(self, name) for name in self.__slots__})


def _set(draft: Draft, **changes) -> Draft:
    for name, value in changes.items():
        setattr(draft, name, value)
    return draft


def _utc(value: str | None) -> str | None:
    return iso(parse_iso(value)) if value else None


def _measures_in_force(state: CaseState, at: str) -> list[Item]:
    return [m for m in state.interim_measures if m["since"] <= at and (m["expires_at"] is None or m["expires_at"] > at)]


def _opened(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    # Events dated before the opening (history reported later) may already be folded: keep them.
    return _set(s, opened=True, country=d["country"], origin_country=d.get("origin_country"),
                   tags=tuple(d.get("tags", ())), teams=tuple(d.get("teams", ())), summary=d.get("summary"),
                timezone=d.get("timezone"), person_tokens=(d["person"],) + s.person_tokens)


def _person_updated(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    return _set(s, person_tokens=s.person_tokens + (d["person"],))


def _removal_scheduled(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    removal = {"event_id": e.event_id, "at": _utc(d.get("at")), "window_start": _utc(d.get("window_start")),
               "window_end": _utc(d.get("window_end")), "destination": d["destination"]}
    return _set(s, removal=removal)


def _removed(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    at = iso(e.occurred_at)
    breached = _measures_in_force(s, at)
    removed = {"event_id": e.event_id, "at": at, "method": d["method"], "destination": d["destination"],
               "despite": [m["body"] for m in breached], "despite_events": [m["event_id"] for m in breached]}
    # Whether the person is held at the destination is unknown until something says so.
    return _set(s, removed=removed, removal=None, detained=None, detained_place=None, after_return=None)


def _detained(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    return _set(s, detained=True, detained_place=d.get("place"))


def removal_end(removal: Item) -> str:
    """When a scheduled removal's time is over: its moment, or the end of its window."""
    return removal["at"] or removal["window_end"]


def _released(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    # Released here after the removal's time: the removal did not take place, which is its outcome.
    removal = None if s.removal and removal_end(s.removal) <= iso(e.occurred_at) else s.removal
    return _set(s, detained=False, removal=removal,
                after_return="released_at_destination" if s.removed else s.after_return)


def _measure_granted(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    measure = {"body": d["body"], "since": iso(e.occurred_at), "expires_at": _utc(d.get("expires_at")),
               "event_id": e.event_id}
    others = tuple(m for m in s.interim_measures if m["body"] != d["body"])
    return _set(s, interim_measures=others + (measure,),
                   measures_requested=tuple(b for b in s.measures_requested if b != d["body"]))


def _measure_ended(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    return _set(s, interim_measures=tuple(m for m in s.interim_measures if m["body"] != d["body"]),
                   measures_requested=tuple(b for b in s.measures_requested if b != d["body"]))


def _hearing_postponed(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    target, new_at = str(d["hearing_event_id"]), _utc(d.get("new_at"))
    return _set(s, hearings=tuple({**h, "at": new_at} if h["event_id"] == target else h for h in s.hearings))


def _done(items: tuple[Item, ...], target: str) -> tuple[Item, ...]:
    return tuple({**i, "done": True} if i["event_id"] == target else i for i in items)


def _decided(s: CaseState, at: str) -> Draft:
    """A decision recorded after a hearing is that hearing's outcome."""
    return _set(s, hearings=tuple({**h, "done": True} if h["at"] and h["at"] <= at else h for h in s.hearings))


def _appeal_decided(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    s = _decided(s, iso(e.occurred_at))
    if d["outcome"] == "dismissed":
        return _set(s, appeal_pending=False)
    # An allowed appeal quashes the order or refusal it was brought against.
    return _set(s, appeal_pending=False, removal_order=False,
                   extradition="requested" if s.extradition == "ordered" else s.extradition,
                   asylum="pending" if s.asylum in ("refused", "inadmissible") else s.asylum)


def _contact(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
    at = iso(e.occurred_at)
    last = max(at, s.last_contact_at) if s.last_contact_at else at
    return _set(s, last_contact_at=last, whereabouts_unknown=False, whereabouts_unknown_since=None,
                   after_return=None if s.after_return == "whereabouts_unknown" else s.after_return)


def _after_return(label: str) -> Callable[[CaseState, StoredEvent, dict], CaseState]:
    def apply(s: CaseState, e: StoredEvent, d: dict) -> CaseState:
        if label == "detained_at_destination":
            return _set(s, after_return=label if s.removed else s.after_return, detained=True,
                        detained_place=d.get("place"))
        return _set(s, after_return=label if s.removed else s.after_return)
    return apply


HANDLERS: dict[str, Callable[[CaseState, StoredEvent, dict], CaseState]] = {
    "CaseOpened": _opened,
    "PersonDetailsUpdated": _person_updated,
    "CaseClosed": lambda s, e, d: _set(s, closed=True),
    "CaseReopened": lambda s, e, d: _set(s, closed=False),
    "PersonalDataErased": lambda s, e, d: _set(s, personal_data_erased=True),
    "Detained": _detained,
    "TransferredToFacility": lambda s, e, d: _set(s, detained=True, detained_place=d["place"]),
    "Released": _released,
    "ExtraditionRequested": lambda s, e, d: _set(s, extradition="requested",
                                                     requesting_state=d["requesting_state"]),
    "DiplomaticAssurancesOffered": lambda s, e, d: _set(s, assurances_offered=True),
    "ExtraditionOrdered": lambda s, e, d: _set(_decided(s, iso(e.occurred_at)), extradition="ordered"),
    "ExtraditionRefused": lambda s, e, d: _set(_decided(s, iso(e.occurred_at)), extradition="refused"),
    "AsylumClaimLodged": lambda s, e, d: _set(s, asylum="pending"),
    "AsylumDecided": lambda s, e, d: _set(_decided(s, iso(e.occurred_at)), asylum=d["outcome"]),
    "ProtectionRevoked": lambda s, e, d: _set(s, asylum="revoked"),
    "HearingScheduled": lambda s, e, d: _set(s, hearings=s.hearings + (
        {"event_id": e.event_id, "court": d["court"], "kind": d["kind"], "at": _utc(d["at"])},)),
    "HearingPostponed": _hearing_postponed,
    "AppealFiled": lambda s, e, d: _set(s, appeal_pending=True),
    "AppealDecided": _appeal_decided,
    "DeadlineSet": lambda s, e, d: _set(s, deadlines=s.deadlines + (
        {"event_id": e.event_id, "kind": d["kind"], "at": _utc(d["at"])},)),
    "HearingHeld": lambda s, e, d: _set(s, hearings=_done(s.hearings, str(d["hearing_event_id"]))),
    "DeadlineMet": lambda s, e, d: _set(s, deadlines=_done(s.deadlines, str(d["deadline_event_id"]))),
    "RemovalOrderIssued": lambda s, e, d: _set(s, removal_order=True),
    "RemovalScheduled": _removal_scheduled,
    "RemovalCancelled": lambda s, e, d: _set(s, removal=None),
    "RemovalNotCarriedOut": lambda s, e, d: _set(s, removal=None),
    "InterimMeasureRequested": lambda s, e, d: _set(
        s, measures_requested=tuple(b for b in s.measures_requested if b != d["body"]) + (d["body"],)),
    "InterimMeasureGranted": _measure_granted,
    "InterimMeasureRefused": _measure_ended,
    "InterimMeasureLifted": _measure_ended,
    "Removed": _removed,
    "DetainedOnReturn": _after_return("detained_at_destination"),
    "WhereaboutsUnknown": lambda s, e, d: _set(
        s, whereabouts_unknown=True, detained=None, detained_place=None,
        after_return="whereabouts_unknown" if s.removed else s.after_return,
        whereabouts_unknown_since=s.whereabouts_unknown_since if s.whereabouts_unknown else iso(e.occurred_at)),
    "ContactEstablished": _contact,
    "Charged": lambda s, e, d: _set(s, charged=True),
    "Sentenced": lambda s, e, d: _set(s, sentence=d["term"],
                                         after_return="sentenced" if s.removed else s.after_return),
    "IllTreatmentReported": lambda s, e, d: _set(s, ill_treatment_reported=True, ill_treatment_at=iso(e.occurred_at)),
    "Deceased": lambda s, e, d: _set(s, deceased=True, deceased_at=iso(e.occurred_at)),
    "Resettled": lambda s, e, d: _set(s, resettled_in=d["country"], detained=False),
}


def evolve(state: CaseState, event: StoredEvent) -> CaseState:
    """Apply one event. Types without a handler (notes, sources, retractions) leave the state as it is."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return state
    return handler(Draft(state), event, event.data).freeze()


EMPTY = CaseState()


def fold_key(event: StoredEvent) -> tuple[datetime, int]:
    return (event.occurred_at, event.version)


def effective(events: Iterable[StoredEvent]) -> list[StoredEvent]:
    """The events not withdrawn by an (itself unretracted) `EventRetracted`, in version order."""
    retracted: set[str] = set()
    kept: list[StoredEvent] = []
    for event in sorted(events, key=lambda e: e.version, reverse=True):
        if event.event_id in retracted:
            continue
        if event.type == "EventRetracted":
            retracted.add(str(event.data["event_id"]))
        kept.append(event)
    kept.reverse()
    return kept


def fold(events: Sequence[StoredEvent], as_of: datetime | None = None,
         known_at: datetime | None = None) -> CaseState:
    """The case as it stood at `as_of` (by occurred_at), as known at `known_at` (by recorded_at)."""
    known = [e for e in events if known_at is None or e.recorded_at <= known_at]
    live = [e for e in effective(known) if as_of is None or e.occurred_at <= as_of]
    draft = Draft(EMPTY)
    for event in sorted(live, key=fold_key):
        handler = HANDLERS.get(event.type)
        if handler is not None:
            handler(draft, event, event.data)
    return draft.freeze()


def summary_as_of(events: Sequence[StoredEvent], as_of: datetime, known_at: datetime | None = None) -> str | None:
    """The case summary as it stood at `as_of`: a summary is prose written when it was recorded, and may tell of
    everything up to then, so one recorded after `as_of` is not shown for it (a case opened today with its history
    back-dated has no summary as of last year)."""
    written = [e for e in effective(e for e in events if known_at is None or e.recorded_at <= known_at)
               if e.type == "CaseOpened" and e.recorded_at <= as_of and e.occurred_at <= as_of]
    return written[-1].data.get("summary") if written else None


STATUSES = ("monitoring", "in_proceedings", "removal_ordered", "removal_scheduled", "removed", "safe", "deceased",
            "closed")  # every value status_of gives


def status_of(state: CaseState) -> str:
    """The primary status, derived from the facts so that closing and reopening lose nothing."""
    if state.closed:
        return "closed"
    if state.deceased:
        return "deceased"
    if state.resettled_in:
        return "safe"
    if state.removed:
        return "removed"
    if (state.asylum == "granted" and not state.detained
                              and state.extradition in ("none", "refused") and not state.removal):
        return "safe"
    if state.removal:
        return "removal_scheduled"
    if state.extradition == "ordered" or state.removal_order or (
            state.asylum in ("refused", "inadmissible", "revoked") and not state.appeal_pending):
        return "removal_ordered"
    if state.extradition == "requested" or state.asylum == "pending" or state.appeal_pending:
        return "in_proceedings"
    return "monitoring"


def measures_in_force(state: CaseState, now: datetime) -> list[Item]:
    at = iso(now)
    return [m for m in state.interim_measures if m["expires_at"] is None or m["expires_at"] > at]


def dated_items(state: CaseState) -> list[Item]:
    """Every dated thing the case is waiting for, past or future: {kind, at, event_id, label}."""
    items: list[Item] = []
    for h in state.hearings:
        if h["at"] and not h.get("done"):
            items.append({"kind": "hearing", "at": h["at"], "event_id": h["event_id"],
                          "label": f"{h['kind']} hearing, {h['court']}"})
    for d in state.deadlines:
        if d.get("done"):
            continue
        items.append({"kind": "deadline", "at": d["at"], "event_id": d["event_id"], "label": f"{d['kind']} deadline"})
    if state.removal:
        r = state.removal
        items.append({"kind": "removal", "at": r["at"] or r["window_start"], "event_id": r["event_id"],
                      "label": f"removal to {r['destination']}" + ("" if r["at"] else " (window opens)")})
    for m in state.interim_measures:
        if m["expires_at"]:
            items.append({"kind": "measure_expiry", "at": m["expires_at"], "event_id": m["event_id"],
                          "label": f"{m['body']} interim measure expires"})
    return sorted(items, key=lambda i: i["at"])


def upcoming(state: CaseState, now: datetime) -> list[Item]:
    at = iso(now)
    return [i for i in dated_items(state) if i["at"] > at]


def awaiting_outcome(state: CaseState) -> list[Item]:
    """Dates whose outcome is to be recorded once they pass, past or future: {kind, at, event_id, label}, where
    `at` is when the date is over (a removal window's end). A recorded outcome removes the date from the state."""
    if state.closed or state.deceased or state.resettled_in:
        return []
    items = [i for i in dated_items(state) if i["kind"] in ("hearing", "deadline")]
    if state.removal:
        items.append({"kind": "removal", "at": removal_end(state.removal), "event_id": state.removal["event_id"],
                      "label": f"removal to {state.removal['destination']}"})
    return sorted(items, key=lambda i: i["at"])


def overdue(state: CaseState, now: datetime) -> list[Item]:
    """Dates that have passed with no outcome recorded, most recent first."""
    at = iso(now)
    return sorted((i for i in awaiting_outcome(state) if i["at"] <= at), key=lambda i: i["at"], reverse=True)
