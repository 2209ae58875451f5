"""The case status projection: a pure fold of a stream's events, honouring retractions and both time axes."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Protocol, Sequence, TypeVar

from . import catalogue as c
from .catalogue import EventData
from .records import StoredEvent
from .utc import iso

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


def _set(draft: Draft, **changes: Any) -> Draft:
    for name, value in changes.items():
        setattr(draft, name, value)
    return draft


# A handler folds one event into the draft; it gets the event's data as its catalogue model (catalogue.read_data).
Handler = Callable[[Draft, StoredEvent, Any], None]
HANDLERS: dict[type[EventData], Handler] = {}
M = TypeVar("M", bound=EventData)


def _handles(*models: type[M]) -> Callable[[Callable[[Draft, StoredEvent, M], None]], Callable[..., None]]:
    def register(handler: Callable[[Draft, StoredEvent, M], None]) -> Callable[..., None]:
        for model in models:
            HANDLERS[model] = handler
        return handler
    return register


def _measures_in_force(s: Draft, at: str) -> list[Item]:
    return [m for m in s.interim_measures if m["since"] <= at and (m["expires_at"] is None or m["expires_at"] > at)]


class OpenedAsStored(Protocol):
    """A CaseOpened as the fold reads it: the catalogue's fields, with `person` the sealed token the store keeps
    (catalogue.stored_model), not a Person."""
    person: str
    country: str
    origin_country: str | None
    tags: list[str]
    teams: list[str]
    summary: str | None
    timezone: str | None


class PersonUpdateAsStored(Protocol):
    """A PersonDetailsUpdated as the fold reads it: only the sealed token."""
    person: str


@_handles(c.CaseOpened)
def _opened(s: Draft, e: StoredEvent, d: OpenedAsStored) -> None:
    # Events dated before the opening (history reported later) may already be folded: keep them.
    _set(s, opened=True, country=d.country, origin_country=d.origin_country, tags=tuple(d.tags),
         teams=tuple(d.teams), summary=d.summary, timezone=d.timezone, person_tokens=(d.person,) + s.person_tokens)


@_handles(c.PersonDetailsUpdated)
def _person_updated(s: Draft, e: StoredEvent, d: PersonUpdateAsStored) -> None:
    s.person_tokens = s.person_tokens + (d.person,)


@_handles(c.CaseClosed)
def _closed(s: Draft, e: StoredEvent, d: c.CaseClosed) -> None:
    s.closed = True


@_handles(c.CaseReopened)
def _reopened(s: Draft, e: StoredEvent, d: c.CaseReopened) -> None:
    s.closed = False


@_handles(c.PersonalDataErased)
def _erased(s: Draft, e: StoredEvent, d: c.PersonalDataErased) -> None:
    s.personal_data_erased = True


@_handles(c.Detained)
def _detained(s: Draft, e: StoredEvent, d: c.Detained) -> None:
    _set(s, detained=True, detained_place=d.place)


@_handles(c.TransferredToFacility)
def _transferred(s: Draft, e: StoredEvent, d: c.TransferredToFacility) -> None:
    _set(s, detained=True, detained_place=d.place)


def removal_end(removal: Item) -> str:
    """When a scheduled removal's time is over: its moment, or the end of its window."""
    return removal["at"] or removal["window_end"]


@_handles(c.Released)
def _released(s: Draft, e: StoredEvent, d: c.Released) -> None:
    # Released here after the removal's time: the removal did not take place, which is its outcome.
    removal = None if s.removal and removal_end(s.removal) <= iso(e.occurred_at) else s.removal
    _set(s, detained=False, removal=removal, after_return="released_at_destination" if s.removed else s.after_return)


@_handles(c.ExtraditionRequested)
def _extradition_requested(s: Draft, e: StoredEvent, d: c.ExtraditionRequested) -> None:
    _set(s, extradition="requested", requesting_state=d.requesting_state)


@_handles(c.DiplomaticAssurancesOffered)
def _assurances(s: Draft, e: StoredEvent, d: c.DiplomaticAssurancesOffered) -> None:
    s.assurances_offered = True


def _decided(s: Draft, at: str) -> Draft:
    """A decision recorded after a hearing is that hearing's outcome."""
    return _set(s, hearings=tuple({**h, "done": True} if h["at"] and h["at"] <= at else h for h in s.hearings))


@_handles(c.ExtraditionOrdered)
def _extradition_ordered(s: Draft, e: StoredEvent, d: c.ExtraditionOrdered) -> None:
    _decided(s, iso(e.occurred_at)).extradition = "ordered"


@_handles(c.ExtraditionRefused)
def _extradition_refused(s: Draft, e: StoredEvent, d: c.ExtraditionRefused) -> None:
    _decided(s, iso(e.occurred_at)).extradition = "refused"


@_handles(c.AsylumClaimLodged)
def _asylum_claimed(s: Draft, e: StoredEvent, d: c.AsylumClaimLodged) -> None:
    s.asylum = "pending"


@_handles(c.AsylumDecided)
def _asylum_decided(s: Draft, e: StoredEvent, d: c.AsylumDecided) -> None:
    _decided(s, iso(e.occurred_at)).asylum = d.outcome


@_handles(c.ProtectionRevoked)
def _protection_revoked(s: Draft, e: StoredEvent, d: c.ProtectionRevoked) -> None:
    s.asylum = "revoked"


@_handles(c.HearingScheduled)
def _hearing_scheduled(s: Draft, e: StoredEvent, d: c.HearingScheduled) -> None:
    s.hearings = s.hearings + ({"event_id": e.event_id, "court": d.court, "kind": d.kind, "at": iso(d.at)},)


@_handles(c.HearingPostponed)
def _hearing_postponed(s: Draft, e: StoredEvent, d: c.HearingPostponed) -> None:
    target, new_at = str(d.hearing_event_id), iso(d.new_at)
    s.hearings = tuple({**h, "at": new_at} if h["event_id"] == target else h for h in s.hearings)


def _done(items: tuple[Item, ...], target: str) -> tuple[Item, ...]:
    return tuple({**i, "done": True} if i["event_id"] == target else i for i in items)


@_handles(c.HearingHeld)
def _hearing_held(s: Draft, e: StoredEvent, d: c.HearingHeld) -> None:
    s.hearings = _done(s.hearings, str(d.hearing_event_id))


@_handles(c.AppealFiled)
def _appeal_filed(s: Draft, e: StoredEvent, d: c.AppealFiled) -> None:
    s.appeal_pending = True


@_handles(c.AppealDecided)
def _appeal_decided(s: Draft, e: StoredEvent, d: c.AppealDecided) -> None:
    _decided(s, iso(e.occurred_at)).appeal_pending = False
    if d.outcome == "allowed":
        # An allowed appeal quashes the order or refusal it was brought against.
        _set(s, removal_order=False, extradition="requested" if s.extradition == "ordered" else s.extradition,
             asylum="pending" if s.asylum in ("refused", "inadmissible") else s.asylum)


@_handles(c.DeadlineSet)
def _deadline_set(s: Draft, e: StoredEvent, d: c.DeadlineSet) -> None:
    s.deadlines = s.deadlines + ({"event_id": e.event_id, "kind": d.kind, "at": iso(d.at)},)


@_handles(c.DeadlineMet)
def _deadline_met(s: Draft, e: StoredEvent, d: c.DeadlineMet) -> None:
    s.deadlines = _done(s.deadlines, str(d.deadline_event_id))


@_handles(c.RemovalOrderIssued)
def _removal_ordered(s: Draft, e: StoredEvent, d: c.RemovalOrderIssued) -> None:
    s.removal_order = True


@_handles(c.RemovalScheduled)
def _removal_scheduled(s: Draft, e: StoredEvent, d: c.RemovalScheduled) -> None:
    s.removal = {"event_id": e.event_id, "at": iso(d.at), "window_start": iso(d.window_start),
                 "window_end": iso(d.window_end), "destination": d.destination}


@_handles(c.RemovalCancelled, c.RemovalNotCarriedOut)
def _removal_off(s: Draft, e: StoredEvent, d: c.RemovalCancelled | c.RemovalNotCarriedOut) -> None:
    s.removal = None


@_handles(c.InterimMeasureRequested)
def _measure_requested(s: Draft, e: StoredEvent, d: c.InterimMeasureRequested) -> None:
    s.measures_requested = tuple(b for b in s.measures_requested if b != d.body) + (d.body,)


@_handles(c.InterimMeasureGranted)
def _measure_granted(s: Draft, e: StoredEvent, d: c.InterimMeasureGranted) -> None:
    measure = {"body": d.body, "since": iso(e.occurred_at), "expires_at": iso(d.expires_at), "event_id": e.event_id}
    others = tuple(m for m in s.interim_measures if m["body"] != d.body)
    _set(s, interim_measures=others + (measure,), measures_requested=tuple(b for b in s.measures_requested
                                                                            if b != d.body))


@_handles(c.InterimMeasureRefused, c.InterimMeasureLifted)
def _measure_ended(s: Draft, e: StoredEvent, d: c.InterimMeasureRefused | c.InterimMeasureLifted) -> None:
    _set(s, interim_measures=tuple(m for m in s.interim_measures if m["body"] != d.body),
         measures_requested=tuple(b for b in s.measures_requested if b != d.body))


@_handles(c.Removed)
def _removed(s: Draft, e: StoredEvent, d: c.Removed) -> None:
    at = iso(e.occurred_at)
    breached = _measures_in_force(s, at)
    removed = {"event_id": e.event_id, "at": at, "method": d.method, "destination": d.destination,
               "despite": [m["body"] for m in breached], "despite_events": [m["event_id"] for m in breached]}
    # Whether the person is held at the destination is unknown until something says so.
    _set(s, removed=removed, removal=None, detained=None, detained_place=None, after_return=None)


@_handles(c.DetainedOnReturn)
def _detained_on_return(s: Draft, e: StoredEvent, d: c.DetainedOnReturn) -> None:
    _set(s, after_return="detained_at_destination" if s.removed else s.after_return, detained=True,
         detained_place=d.place)


@_handles(c.WhereaboutsUnknown)
def _whereabouts_unknown(s: Draft, e: StoredEvent, d: c.WhereaboutsUnknown) -> None:
    _set(s, whereabouts_unknown=True, detained=None, detained_place=None,
         after_return="whereabouts_unknown" if s.removed else s.after_return,
         whereabouts_unknown_since=s.whereabouts_unknown_since if s.whereabouts_unknown else iso(e.occurred_at))


@_handles(c.ContactEstablished)
def _contact(s: Draft, e: StoredEvent, d: c.ContactEstablished) -> None:
    at = iso(e.occurred_at)
    last = max(at, s.last_contact_at) if s.last_contact_at else at
    _set(s, last_contact_at=last, whereabouts_unknown=False, whereabouts_unknown_since=None,
         after_return=None if s.after_return == "whereabouts_unknown" else s.after_return)


@_handles(c.Charged)
def _charged(s: Draft, e: StoredEvent, d: c.Charged) -> None:
    s.charged = True


@_handles(c.Sentenced)
def _sentenced(s: Draft, e: StoredEvent, d: c.Sentenced) -> None:
    _set(s, sentence=d.term, after_return="sentenced" if s.removed else s.after_return)


@_handles(c.IllTreatmentReported)
def _ill_treatment(s: Draft, e: StoredEvent, d: c.IllTreatmentReported) -> None:
    _set(s, ill_treatment_reported=True, ill_treatment_at=iso(e.occurred_at))


@_handles(c.Deceased)
def _deceased(s: Draft, e: StoredEvent, d: c.Deceased) -> None:
    _set(s, deceased=True, deceased_at=iso(e.occurred_at))


@_handles(c.Resettled)
def _resettled(s: Draft, e: StoredEvent, d: c.Resettled) -> None:
    _set(s, resettled_in=d.country, detained=False)


# Event types (as stored) that change the state; the others (notes, sources, retractions) leave it as it is.
_BY_TYPE: dict[str, Handler] = {model.__name__: handler for model, handler in HANDLERS.items()}
STATE_TYPES: frozenset[str] = frozenset(_BY_TYPE)


def _apply(draft: Draft, event: StoredEvent) -> None:
    handler = _BY_TYPE.get(event.type)
    if handler is not None:
        handler(draft, event, event.typed_data())


def evolve(state: CaseState, event: StoredEvent) -> CaseState:
    """Apply one event. Types without a handler (notes, sources, retractions) leave the state as it is."""
    if event.type not in _BY_TYPE:
        return state
    draft = Draft(state)
    _apply(draft, event)
    return draft.freeze()


def evolve_all(state: CaseState, events: Iterable[StoredEvent]) -> CaseState:
    """Apply several events in the order given, on one working copy (a bulk load folds many at once)."""
    draft = Draft(state)
    for event in events:
        _apply(draft, event)
    return draft.freeze()


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
            retracted.add(str(event.typed_data().event_id))
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
        _apply(draft, event)
    return draft.freeze()


def summary_as_of(events: Sequence[StoredEvent], as_of: datetime, known_at: datetime | None = None) -> str | None:
    """The case summary as it stood at `as_of`: a summary is prose written when it was recorded, and may tell of
    everything up to then, so one recorded after `as_of` is not shown for it (a case opened today with its history
    back-dated has no summary as of last year)."""
    written = [e for e in effective(e for e in events if known_at is None or e.recorded_at <= known_at)
               if e.type == "CaseOpened" and e.recorded_at <= as_of and e.occurred_at <= as_of]
    return written[-1].typed_data().summary if written else None


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
