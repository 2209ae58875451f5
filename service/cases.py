"""The case application service: opens cases, validates and appends events, and reads cases back for a principal."""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection

from events.case_list import ListFilter
from events.case_projections import CaseRow
from events.data_keys import DataKeys
from events.name_index import NameIndex
from events.name_keys import person_names
from events.catalogue import EVENT_TYPES, PersonUpdate
from events.clock import Clock
from events.i18n import Said, phrase
from events.personal_data import PersonalDataCipher, UndecryptableError
from events.projection import CaseState, effective, fold, status_of, summary_as_of
from events.records import AppendResult, StoredEvent, iso
from events.risk import LEVELS, list_place
from events.timing import Timing
from events.store import ConcurrencyConflict, DuplicateMismatch, EventStore, NewEvent, StreamNotFound

from . import metrics
from .access import Principal
from .case_repository import CaseRepository
from .errors import AlreadyErased, InputError, NotFound, NotYetRecorded
from .schemas import CaseIn, EventIn
from .settings import Settings
from .views import case_view, event_item, merge_person

PERSONAL_TYPES = ("CaseOpened", "PersonDetailsUpdated")


class Unread:
    """The type of UNREAD: an append whose caller has not read the case's teams (the access check reads them)."""


UNREAD = Unread()


def caller_key(who: Principal, key: str | None) -> str | None:
    """An Idempotency-Key as stored: bound to the caller's API key, so two callers' keys never meet, and hashed,
    so the stored value says nothing of what the client sent."""
    if key is None:
        return None
    return hashlib.sha256(f"{who.key_id}\x00{key}".encode()).hexdigest()


def request_hash(target: str, body: dict[str, Any]) -> str:
    """What a request asked for, so a reused Idempotency-Key with another body is told apart from a retry."""
    return hashlib.sha256(json.dumps([target, body], sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def asked_for(idempotency_key: str | None, target: str, body: BaseModel) -> str | None:
    """The request_hash the store keeps with an Idempotency-Key; None without one, where the store neither keeps
    nor compares it (the dump and hash cost some 40 us, a twentieth of an HTTP append's CPU)."""
    return None if idempotency_key is None else request_hash(target, body.model_dump(mode="json"))


APPEND_OUTCOMES = ((ConcurrencyConflict, "conflict"), (DuplicateMismatch, "mismatch"),
                   ((InputError, AlreadyErased), "rejected"), ((NotFound, StreamNotFound), "not_found"))


def counted(event_type: str, append: Callable[[], AppendResult]) -> AppendResult:
    """Run one single-event append and count it by how it ended (vigil_appends_total)."""
    try:
        result = append()
    except Exception as exc:
        metrics.count_append(event_type, next((o for kind, o in APPEND_OUTCOMES if isinstance(exc, kind)), "error"))
        raise
    metrics.count_append(event_type, "committed" if result.created else "duplicate")
    return result


def field_errors(exc: ValidationError, prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    # No `input` echoed back: it may hold personal data.
    return [{"loc": list(prefix) + [str(p) for p in err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors()]


FUTURE_SLACK = timedelta(days=1)  # clocks and time zones differ; beyond a day it is a plan, not a fact
SCHEDULING = "RemovalScheduled, HearingScheduled or DeadlineSet with the date in data.at"


def not_in_future(moment: datetime, now: datetime) -> None:
    """`occurred_at` says when something happened (or was decided): a date more than a day ahead is refused."""
    if moment - now > FUTURE_SLACK:
        raise InputError([{"loc": ["body", "occurred_at"], "type": "in_future",
                           "msg": "is more than a day in the future; occurred_at is when it happened or was decided "
                                  f"-- for a planned date use a scheduling event ({SCHEDULING})"}])


def opening_data(who: Principal, body: CaseIn, sealed_person: str) -> dict[str, Any]:
    """The data of a CaseOpened (the person already sealed)."""
    # A case given no teams belongs to its opener's team -- an admin's too, or no editor could ever see it.
    teams = list(body.teams or [])
    if (not who.is_admin or not teams) and who.team not in teams:
        teams.insert(0, who.team)
    data = {"person": sealed_person, "country": body.country, "origin_country": body.origin_country,
            "tags": body.tags, "teams": teams, "summary": body.summary}
    if body.timezone:
        data["timezone"] = body.timezone
    return data


def check_event(body: EventIn, now: datetime) -> NewEvent:
    """Validate an event against its type's schema (as POST .../events does); personal data is still plain."""
    not_in_future(body.occurred_at, now)
    kind = EVENT_TYPES.get(body.type)
    if kind is None:
        raise InputError([{"loc": ["body", "type"], "msg": f"unknown event type '{body.type}'",
                           "type": "unknown_event_type"}])
    if kind.system_only or kind.name == "CaseOpened":
        why = "is recorded by Vigil itself" if kind.system_only else "is appended by POST /v1/cases"
        raise InputError([{"loc": ["body", "type"], "msg": f"{kind.name} {why}", "type": "not_appendable"}])
    try:
        parsed = kind.model.model_validate(body.data)
    except ValidationError as exc:
        raise InputError(field_errors(exc, ("body", "data"))) from None
    data = parsed.model_dump(mode="json", exclude_none=True)
    source = body.source.model_dump(exclude_none=True) if body.source else None
    return NewEvent(kind.name, body.occurred_at, data, body.date_precision, source,
                    str(body.event_id) if body.event_id else None)


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    risk: str | None = None
    country: str | None = None
    tag: str | None = None
    q: str | None = None


# Events that name another event of the case: the field, and the type that event must have (None: any).
TARGETS = {"EventRetracted": ("event_id", None), "HearingPostponed": ("hearing_event_id", "HearingScheduled"),
           "HearingHeld": ("hearing_event_id", "HearingScheduled"), "DeadlineMet": ("deadline_event_id", "DeadlineSet")}


class CaseService:
    def __init__(self, store: EventStore, cipher: PersonalDataCipher, data_keys: DataKeys, clock: Clock,
                 settings: Settings, repository: CaseRepository | None = None, names: NameIndex | None = None):
        self.store, self.cipher, self.data_keys = store, cipher, data_keys
        self.clock, self.settings = clock, settings
        self.repository = repository or CaseRepository(store.engine)
        self.names = names or NameIndex(cipher.derive_key("name-index"))

    # ---- writing ----
    def open_case(self, who: Principal, body: CaseIn, idempotency_key: str | None = None,
                  actor: str | None = None, quiet: bool = False) -> AppendResult:
        """Open a case; `quiet` for a bulk load of history (projections and reminders ahead, no alerts)."""
        return counted("CaseOpened", lambda: self._open_case(who, body, idempotency_key, actor, quiet))

    def _open_case(self, who: Principal, body: CaseIn, idempotency_key: str | None, actor: str | None,
                   quiet: bool = False) -> AppendResult:
        if body.occurred_at is not None:
            not_in_future(body.occurred_at, self.clock.now())
        case_id = str(uuid.uuid4())
        data_key = PersonalDataCipher.new_key()
        data = opening_data(who, body, self.cipher.seal(data_key, case_id, body.person.model_dump(mode="json")))
        occurred_at = body.occurred_at or self.clock.now()

        def store_key(conn: Connection) -> None:  # wrapped under the append lock: see DataKeys.wrap
            self.repository.store_key(conn, case_id, self.data_keys.wrap(case_id, data_key), self.clock.now())
            # The name is still plain here, and this is the append's transaction: the index and the event commit
            # together or not at all.
            self.names.replace(conn, case_id, person_names(body.person.model_dump()))

        event = NewEvent("CaseOpened", occurred_at, data, body.date_precision)
        return self.store.append(case_id, [event], actor=actor or who.actor, new_stream=True, quiet=quiet,
                                 idempotency_key=caller_key(who, idempotency_key), before_insert=store_key,
                                 request_hash=asked_for(idempotency_key, "open", body))[0]

    def prepare(self, case_id: str, body: EventIn) -> NewEvent:
        """Validate an event against its type's schema and seal any personal data in it."""
        event = check_event(body, self.clock.now())
        if event.type == "PersonDetailsUpdated":
            event.data["person"] = self._seal(case_id, PersonUpdate.model_validate(body.data["person"]))
        return event

    def append(self, who: Principal, case_id: str, body: EventIn, expected_version: int | None = None,
               idempotency_key: str | None = None, done_reading: Callable[[], None] | None = None,
               teams: list[str] | None | Unread = UNREAD) -> AppendResult:
        """`done_reading` is called once the case's access is checked (the caller's shared read connection goes
        back before the append waits for its commit). `teams`, if given, are the case's teams as the caller just
        read them (None: no such case), so the access check reads nothing itself."""
        return counted(body.type, lambda: self._append(who, case_id, body, expected_version, idempotency_key,
                                                       done_reading, teams))

    def _append(self, who: Principal, case_id: str, body: EventIn, expected_version: int | None,
                idempotency_key: str | None, done_reading: Callable[[], None] | None,
                teams: list[str] | None | Unread = UNREAD) -> AppendResult:
        try:
            if isinstance(teams, Unread):
                self.require_access(who, case_id)
            elif teams is None or not who.may_see(teams):
                raise NotFound("case", case_id)
        finally:
            if done_reading is not None:
                done_reading()
        event = self.prepare(case_id, body)
        if event.type in TARGETS:
            self._check_target(case_id, event)
        reindex = None
        if event.type == "PersonDetailsUpdated":
            update = PersonUpdate.model_validate(body.data["person"]).model_dump(mode="json", exclude_none=True)
            reindex = lambda conn: self._reindex(conn, case_id, update)  # noqa: E731
        return self.store.append(case_id, [event], actor=who.actor, expected_version=expected_version,
                                 idempotency_key=caller_key(who, idempotency_key), before_insert=reindex,
                                 request_hash=asked_for(idempotency_key, case_id, body))[0]

    def _reindex(self, conn: Connection, case_id: str, update: dict[str, Any] | None = None) -> bool:
        """Inside a transaction holding the append lock: the case's index rows become those of its person as it
        stands (with `update` laid over it: the PersonDetailsUpdated being appended). False if nothing opens."""
        row = self.repository.row_in(conn, case_id)
        wrapped = self.repository.key_in(conn, case_id)
        if row is None or wrapped is None:  # erased (perhaps since the update was sealed): nothing to find it by
            self.names.remove(conn, case_id)
            return False
        person = self._open_person(case_id, row.state, wrapped) or {}
        self.names.replace(conn, case_id, person_names(merge_person([person, update or {}])))
        return True

    def reindex_all(self) -> int:
        """Fill the name index for every case (after an upgrade from before it existed): one case per
        transaction, each under the append lock so no concurrent change of a person is overwritten."""
        indexed = 0
        for case_id in self.repository.case_ids():
            with self.repository.locked() as conn:
                indexed += self._reindex(conn, case_id)
        with self.repository.locked() as conn:
            NameIndex.mark_complete(conn)
        return indexed

    def _check_target(self, case_id: str, event: NewEvent) -> None:
        field, wanted = TARGETS[event.type]
        target = str(event.data[field])
        found = next((e for e in self.store.read_stream(case_id) if e.event_id == target), None)
        if found is None or (wanted is not None and found.type != wanted):
            what = "an event of this case" if wanted is None else f"a {wanted} event of this case"
            raise InputError([{"loc": ["body", "data", field], "msg": f"{target} is not {what}",
                               "type": "unknown_target"}])

    def _seal(self, case_id: str, person: PersonUpdate) -> str:
        key = self._data_key(case_id)
        if key is None:
            raise InputError([{"loc": ["body", "data", "person"], "msg": "personal data of this case was erased",
                               "type": "erased"}])
        return self.cipher.seal(key, case_id, person.model_dump(mode="json", exclude_none=True))

    def erase(self, who: Principal, case_id: str, reason: str | None) -> AppendResult:
        """Crypto-shred the person's data: destroy the case's data key and record who did it and why.

        Copies of the database Vigil cannot clean (PostgreSQL's WAL, replicas, backups) may keep the wrapped key,
        so the key that wrapped it is destroyed too: every other case's key moves to a new keyring generation in
        the same transaction, and the old generation is retired once nothing is under it."""
        result = counted("PersonalDataErased", lambda: self._erase(who, case_id, reason))
        self.data_keys.retire_unused(self.store.engine)
        self.repository.purge_deleted_rows()
        return result

    def _erase(self, who: Principal, case_id: str, reason: str | None) -> AppendResult:
        self.require_access(who, case_id)
        if self._data_key(case_id) is None:
            raise AlreadyErased(case_id)
        generation = self.data_keys.keyring.add_generation()

        def destroy_key(conn: Connection) -> None:
            self.repository.delete_key(conn, case_id)
            self.names.remove(conn, case_id)
            self.data_keys.rewrap_all(conn, generation, erased=case_id)

        data = {"erased_by": who.actor, **({"reason": reason} if reason else {})}
        return self.store.append(case_id, [NewEvent("PersonalDataErased", self.clock.now(), data)],
                                 actor=who.actor, before_insert=destroy_key)[0]

    # ---- reading ----
    def require_case(self, who: Principal, case_id: str) -> CaseRow:
        """The case's projection row, or NotFound if it does not exist or this principal may not see it."""
        row = self.repository.get(case_id)
        if row is None or not who.may_see(row.state.teams):
            raise NotFound("case", case_id)
        return row

    def require_access(self, who: Principal, case_id: str) -> None:
        """Like require_case, reading only the case's teams (the append path needs no more)."""
        teams = self.repository.teams(case_id)
        if teams is None or not who.may_see(teams):
            raise NotFound("case", case_id)

    def view(self, who: Principal, case_id: str) -> dict[str, Any]:
        row = self.require_case(who, case_id)
        return self._view(who, case_id, row.version, row.state, self.clock.now())

    def status(self, who: Principal, case_id: str, as_of: datetime | None, known_at: datetime | None
               ) -> dict[str, Any]:
        self.require_case(who, case_id)
        events = self.store.read_stream(case_id)
        first_recorded = min(e.recorded_at for e in events)
        if known_at is not None and known_at < first_recorded:
            raise NotYetRecorded(Said(phrase("the case was not yet recorded at that time (first recorded %(at)s)",
                                             at=iso(first_recorded))))
        if as_of is not None and not any(e.occurred_at <= as_of for e in events):
            first = min(e.occurred_at for e in events)
            raise NotYetRecorded(Said(phrase("nothing recorded in the case had happened by that time (its first "
                                             "event is dated %(at)s)", at=iso(first))))
        state = fold(events, as_of=as_of, known_at=known_at)
        if as_of is not None:
            state = replace(state, summary=summary_as_of(events, as_of, known_at))
        moment = as_of or known_at or self.clock.now()
        version = max((e.version for e in events if known_at is None or e.recorded_at <= known_at), default=0)
        view = self._view(who, case_id, version, state, moment)
        view["as_of"] = iso(as_of)
        view["known_at"] = iso(known_at)
        return view

    def _view(self, who: Principal, case_id: str, version: int, state: CaseState, now: datetime) -> dict[str, Any]:
        person = self.person(case_id, state) if who.sees_personal_data else None
        return case_view(case_id, version, state, now, Timing.from_settings(self.settings),
                         person, who.sees_personal_data)

    def person_name(self, case_id: str) -> str | None:
        """The name on a case, opened, for a delivery that carries it (None once erased or unknown)."""
        row = self.repository.get(case_id)
        person = self.person(case_id, row.state) if row else None
        return person.get("name") if person else None

    def zones(self, case_ids) -> dict[str, str | None]:
        """Each case's time zone, for messages that show local times."""
        return self.repository.zones(case_ids)

    def person(self, case_id: str, state: CaseState) -> dict[str, Any] | None:
        return self._open_person(case_id, state, self.repository.wrapped_key(case_id))

    def visible_rows(self, who: Principal) -> list[CaseRow]:
        """Every case this principal may see now, with its state (an admin sees every team's)."""
        ids = self.repository.case_ids() if who.is_admin else self.repository.visible_ids(who.team)
        return sorted(self.repository.rows(ids), key=lambda r: r.case_id)

    def people_of(self, who: Principal, cases: list[tuple[str, CaseState]]) -> dict[str, dict[str, Any] | None]:
        """The persons of these cases, for a principal whose role may see them (none otherwise)."""
        return self._people(who, cases)

    def _people(self, who: Principal, cases: list[tuple[str, CaseState]]) -> dict[str, dict[str, Any] | None]:
        """The persons of a page of cases, their wrapped keys read in one query (none for a key that may not)."""
        if not who.sees_personal_data or not cases:
            return {}
        wrapped = self.repository.wrapped_keys(c for c, _ in cases)
        return {case_id: self._open_person(case_id, state, wrapped.get(case_id)) for case_id, state in cases}

    def _open_person(self, case_id: str, state: CaseState, wrapped: bytes | None) -> dict[str, Any] | None:
        if wrapped is None or not state.person_tokens:
            return None
        key = self.data_keys.unwrap(case_id, wrapped)  # a wrong master key is an error, not a missing person
        try:
            return merge_person([self.cipher.open(key, case_id, t) for t in state.person_tokens])
        except UndecryptableError:
            return None

    def _data_key(self, case_id: str) -> bytes | None:
        wrapped = self.repository.wrapped_key(case_id)
        return self.data_keys.unwrap(case_id, wrapped) if wrapped is not None else None

    def list(self, who: Principal, filters: CaseFilters, limit: int = 50, offset: int = 0
             ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of visible cases, most urgent first, then the soonest next date, then case id."""
        now = self.clock.now()
        overdue = Timing.from_settings(self.settings)
        if filters.q:
            if not who.sees_personal_data:
                raise InputError([{"loc": ["query", "q"], "type": "not_allowed",
                                   "msg": "searches names and aliases, which this role may not see; use the "
                                          "status, risk, country and tag filters"}])
            found = self.repository.names_found(self.names, filters.q)
            if found is None:  # the index is still being filled after an upgrade (vigil names reindex)
                return self._search(who, filters, limit, offset, now)
            return self._ranked_page(who, filters, self.repository.rows(found), limit, offset, now)
        wanted = ListFilter(filters.status, filters.country, filters.tag, None if who.is_admin else who.team,
                            filters.risk)
        listed, more = self.repository.page(wanted, now, overdue, offset, limit)
        listed = [c for c in listed if who.may_see(c.state.teams)]
        # Only the page is turned into views: a view opens the person's data, which costs a key unwrap per case.
        people = self._people(who, [(c.case_id, c.state) for c in listed])
        page = [case_view(c.case_id, c.version, c.state, now, overdue, people.get(c.case_id), who.sees_personal_data)
                for c in listed]
        return page, (offset + limit if more else None)

    def _ranked_page(self, who: Principal, filters: CaseFilters, rows: list[CaseRow], limit: int, offset: int,
                     now: datetime, match: Callable[[CaseRow], bool] | None = None
                     ) -> tuple[list[dict[str, Any]], int | None]:
        """The cases of `rows` this principal may see that pass the filters (and `match`), in the list's order."""
        overdue = Timing.from_settings(self.settings)
        rows = [r for r in rows if who.may_see(r.state.teams)]
        if filters.status:
            rows = [r for r in rows if status_of(r.state) == filters.status]
        if filters.country:
            rows = [r for r in rows if filters.country in (r.state.country, r.state.origin_country)]
        if filters.tag:
            rows = [r for r in rows if filters.tag in r.state.tags]
        ranked = []
        for row in rows:
            place = list_place(row.state, now, overdue)
            if filters.risk and LEVELS[place.rank] != filters.risk:
                continue
            ranked.append((place.order(row.case_id), row))
        if match is not None:
            ranked = [(k, r) for k, r in ranked if match(r)]
        ranked.sort(key=lambda item: item[0])
        shown = [r for _, r in ranked[offset:offset + limit]]
        people = self._people(who, [(r.case_id, r.state) for r in shown])  # the page's keys in one query
        page = [case_view(r.case_id, r.version, r.state, now, overdue, people.get(r.case_id), who.sees_personal_data)
                for r in shown]
        return page, (offset + limit if offset + limit < len(ranked) else None)

    def _search(self, who: Principal, filters: CaseFilters, limit: int, offset: int, now: datetime
                ) -> tuple[list[dict[str, Any]], int | None]:
        """Search before the name index is complete: every visible case is opened and matched, as before it."""
        needle = filters.q.casefold()
        return self._ranked_page(who, filters, self.repository.all(filters.status, filters.country), limit, offset,
                                 now, lambda row: self._matches(who, row, needle))

    def _matches(self, who: Principal, row: CaseRow, needle: str) -> bool:
        haystack = [row.state.summary or "", " ".join(row.state.tags), row.state.country or "",
                    row.state.origin_country or ""]
        if who.sees_personal_data:
            person = self.person(row.case_id, row.state) or {}
            haystack += [person.get("name", ""), " ".join(person.get("aliases", []))]
        return any(needle in text.casefold() for text in haystack)

    def events(self, who: Principal, case_id: str, after_version: int = 0, limit: int | None = None
               ) -> list[dict[str, Any]]:
        self.require_case(who, case_id)
        everything = self.store.read_stream(case_id)
        retracted_by = retractions(everything)
        person = self._person_opener(who, case_id)
        by_id = {e.event_id: e for e in everything}
        items = []
        for e in everything:
            if e.version <= after_version:
                continue
            item = event_item(e, person(e), retracted_by.get(e.event_id))
            if e.type == "EventRetracted" and str(e.data["event_id"]) in by_id:
                item["retracts"] = retracted_summary(by_id[str(e.data["event_id"])])
            items.append(item)
        return items[:limit]

    def _person_opener(self, who: Principal, case_id: str):
        """A function giving an event's data with personal data opened, or marked redacted or erased."""
        key = None
        if who.sees_personal_data:
            key = self._data_key(case_id)

        def open_data(event: StoredEvent) -> dict[str, Any]:
            data = event.data
            if event.type in PERSONAL_TYPES:
                if key is None:
                    data["person"] = {"redacted": True} if not who.sees_personal_data else {"erased": True}
                else:
                    data["person"] = self.cipher.open(key, case_id, data["person"])
            return data
        return open_data

    def feed(self, who: Principal, after: int, limit: int, types: list[str] | None) -> list[dict[str, Any]]:
        """The global feed for integrations; personal data never appears in it."""
        stream_ids = None
        if not who.is_admin:
            stream_ids = self.repository.visible_ids(who.team)
        items = []
        for event in self.store.read_all(after, limit, types, stream_ids):
            data = event.data
            if event.type in PERSONAL_TYPES:
                data["person"] = {"redacted": True}
            items.append(event_item(event, data, None))
        return items

    def verify(self, who: Principal, case_id: str) -> dict[str, Any]:
        self.require_case(who, case_id)
        return self.store.verify(case_id).as_dict()

    def export(self, who: Principal, case_id: str, alerts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The whole dossier; `alerts` (with their deliveries) come from the alert service."""
        alerts = alerts or []
        return {"case": self.view(who, case_id), "events": self.events(who, case_id),
                "verify": self.store.verify(case_id).as_dict(),
                "alerts": [{k: v for k, v in a.items() if k != "deliveries"} for a in alerts],
                "deliveries": [d for a in alerts for d in a.get("deliveries", [])],
                "exported_at": iso(self.clock.now())}


def retracted_summary(event: StoredEvent) -> dict[str, Any]:
    """What a retraction withdrew, enough to name it ("Detained on 14 Dec 2023") without its data."""
    return {"event_id": event.event_id, "type": event.type, "version": event.version,
            "occurred_at": iso(event.occurred_at), "date_precision": event.date_precision}


def retractions(events: list[StoredEvent]) -> dict[str, str]:
    """Which event (by id) each effective retraction withdrew: {retracted event_id: retracting event_id}."""
    live = effective(events)
    return {str(e.data["event_id"]): e.event_id for e in live if e.type == "EventRetracted"}
