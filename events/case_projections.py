"""Keeps the case_projections table in step with the log: inline on append, or rebuilt from scratch."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from sqlalchemy import Connection, Engine, select

from .fastsql import Raw
from .projection import STATE_TYPES, CaseState, evolve_all, fold, fold_key, status_of
from .records import StoredEvent, iso, parse_iso
from .recent import Recent
from .risk import list_place
from .store import AppendContext, row_to_event
from .tables import case_projections as proj
from .tables import events as events_table
from .timing import Timing
from .transactions import writing
from .utc import from_db


INSERT_PROJECTION = (
    "INSERT INTO case_projections (case_id, version, status, country, origin_country, tags, teams, state, "
    "opened_at, updated_at) VALUES (:case_id, :version, :status, :country, :origin_country, :tags, :teams, :state, "
    ":opened_at, :updated_at)")
# An append writes a new state with its place in the case list as of its own time (events.case_list), so the
# scheduler's tick re-places only the cases whose place time has made lapse, not every case just appended to.
INSERT_PLACED_PROJECTION = (
    "INSERT INTO case_projections (case_id, version, status, country, origin_country, tags, teams, state, "
    "opened_at, updated_at, list_sort, list_next_at, list_valid_until) VALUES (:case_id, :version, :status, "
    ":country, :origin_country, :tags, :teams, :state, :opened_at, :updated_at, :list_sort, :list_next_at, "
    ":list_valid_until)")
UPDATE_PROJECTION = (
    "UPDATE case_projections SET version = :version, status = :status, country = :country, "
    "origin_country = :origin_country, tags = :tags, teams = :teams, state = :state, updated_at = :updated_at, "
    "list_sort = :list_sort, list_next_at = :list_next_at, list_valid_until = :list_valid_until "
    "WHERE case_id = :case_id")


TOUCH_PROJECTION = "UPDATE case_projections SET version = :version, updated_at = :updated_at WHERE case_id = :case_id"
KNOWN_CASES = 10_000  # projection rows each process keeps decoded, so an append need not re-read its own writes

Furthest = tuple[datetime, int] | None  # fold key of the latest state-carrying event folded so far


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    version: int
    state: CaseState
    opened_at: datetime
    updated_at: datetime


class _Known(NamedTuple):
    """A committed projection row as this process last wrote or read it: exact for this version of the case."""
    version: int
    state: CaseState
    last: Furthest


def _encode(state: CaseState, last: Furthest) -> str:
    return json.dumps({"state": state.to_dict(), "last": [iso(last[0]), last[1]] if last else None},
                      separators=(",", ":"))


def _decode_last(raw: Any) -> Furthest:
    return (parse_iso(raw[0]), raw[1]) if raw else None


def _row_values(state: CaseState, version: int, last: Furthest, updated_at: datetime) -> dict[str, Any]:
    return {"version": version, "status": status_of(state), "country": state.country,
            "origin_country": state.origin_country, "tags": json.dumps(list(state.tags)),
            "teams": json.dumps(list(state.teams)), "state": _encode(state, last), "updated_at": updated_at}


def decode_row(row: Any) -> CaseRow:
    raw = json.loads(row.state)
    return CaseRow(row.case_id, row.version, CaseState.from_dict(raw["state"]), row.opened_at, row.updated_at)


@dataclass(frozen=True)
class Folded:
    """What an append did to its case, for the steps after the projection: the state before and after."""
    before: CaseState
    after: CaseState


class CaseProjections:
    """The append hook that folds new events into the stored projection, and the readers of that table."""

    def __init__(self, known_cases: int = KNOWN_CASES, timing: Timing | timedelta = Timing()):
        self._known: Recent[str, _Known] = Recent(known_cases)
        self.timing = Timing.of(timing)  # the case list's, as the tick places cases with it

    def __call__(self, conn: Connection, stream_id: str, appended: Sequence[StoredEvent],
                 context: AppendContext) -> Folded:
        raw = context.raw
        # Versions are never reused and the fold is deterministic, so a row known at the stream's current
        # version (read by the store in this transaction) is the row in the database.
        known = self._known.get(stream_id)
        if known is None or known.version != appended[0].version - 1:
            known = self._read(raw, stream_id)
        state, last = (known.state, known.last) if known is not None else (CaseState(), None)
        before = state

        def whole_stream() -> list[StoredEvent]:
            return [row_to_event(r) for r in conn.execute(
                select(events_table).where(events_table.c.stream_id == stream_id).order_by(events_table.c.version))]

        state, last = advance(state, last, appended, whole_stream)
        head = appended[-1]
        if known is not None and state is known.state and last == known.last:
            # Nothing the fold keeps changed (a note, a source): only the version and the time move.
            raw.later(TOUCH_PROJECTION, {"version": head.version, "updated_at": raw.time(head.recorded_at),
                                       "case_id": stream_id})
        else:
            values = _row_values(state, head.version, last, head.recorded_at)
            place = list_place(state, head.recorded_at, self.timing)
            values.update(case_id=stream_id, updated_at=raw.time(head.recorded_at), list_sort=place.sort,
                          list_next_at=place.next_at, list_valid_until=place.valid_until)
            if known is None:
                raw.later(INSERT_PLACED_PROJECTION, {**values, "opened_at": values["updated_at"]})
            else:
                raw.later(UPDATE_PROJECTION, values)
        context.after_commit.append(lambda: self._known.put(stream_id, _Known(head.version, state, last)))
        return Folded(before, state)

    def _read(self, raw: Raw, stream_id: str) -> _Known | None:
        row = raw.one("SELECT version, state FROM case_projections WHERE case_id = :c", {"c": stream_id})
        if row is None:
            return None
        stored = json.loads(row[1])
        return _Known(row[0], CaseState.from_dict(stored["state"]), _decode_last(stored["last"]))

    @staticmethod
    def get(conn: Connection, case_id: str) -> CaseRow | None:
        row = conn.execute(select(proj).where(proj.c.case_id == case_id)).first()
        return decode_row(row) if row else None

    @staticmethod
    def zones(raw: Raw, case_ids: Iterable[str]) -> dict[str, str | None]:
        """Each case's time zone, read from its stored state without decoding the rest (on the driver: a built
        SQLAlchemy query cost a claim of a few deliveries more CPU than the claim's own statements)."""
        wanted = list(case_ids)
        if not wanted:
            return {}
        names = ", ".join(f":c{i}" for i in range(len(wanted)))
        rows = raw.all(f"SELECT case_id, state FROM case_projections WHERE case_id IN ({names})",
                       {f"c{i}": case_id for i, case_id in enumerate(wanted)})
        return {case_id: json.loads(state)["state"].get("timezone") for case_id, state in rows}

    @staticmethod
    def visible_ids(conn: Connection, team: str) -> list[str]:
        """Cases a team may see, read from the teams column alone (no state is decoded)."""
        rows = conn.execute(select(proj.c.case_id, proj.c.teams))
        return [r.case_id for r in rows if team in json.loads(r.teams)]

    @staticmethod
    def some(conn: Connection, case_ids: list[str]) -> Iterator[CaseRow]:
        for row in conn.execute(select(proj).where(proj.c.case_id.in_(case_ids))):
            yield decode_row(row)

    @staticmethod
    def all(conn: Connection, status: str | None = None, country: str | None = None) -> Iterator[CaseRow]:
        query = select(proj)
        if status:
            query = query.where(proj.c.status == status)
        if country:
            query = query.where((proj.c.country == country) | (proj.c.origin_country == country))
        for row in conn.execute(query):
            yield decode_row(row)


def _furthest(events: Iterable[StoredEvent]) -> Furthest:
    return max((fold_key(e) for e in events if e.type in STATE_TYPES), default=None)


def advance(state: CaseState, last: Furthest, appended: Sequence[StoredEvent],
            whole_stream: Callable[[], list[StoredEvent]]) -> tuple[CaseState, Furthest]:
    """Fold newly appended events into a projection; refold the whole stream when an event that carries state
    lands in the past of what was folded (a late report) or an event is withdrawn (a retraction)."""
    # Only state-carrying events are placed in order; a note dated anywhere changes nothing.
    if any(e.type == "EventRetracted" or (last is not None and e.type in STATE_TYPES and fold_key(e) < last)
           for e in appended):
        everything = whole_stream()
        return fold(everything), _furthest(everything)
    changing = sorted((e for e in appended if e.type in STATE_TYPES), key=fold_key)
    if not changing:
        return state, last
    # One working copy for the lot (not one per event): the same result as evolving them one by one.
    newest = fold_key(changing[-1])
    return evolve_all(state, changing), max(last, newest) if last is not None else newest


REBUILD_QUERY = ("SELECT stream_id, version, event_id, type, schema_version, occurred_at, recorded_at, data "
                 "FROM events ORDER BY stream_id, version")


def rebuild(engine: Engine, batch: int = 2000) -> int:
    """Drop every projection row and fold each stream again from the log; returns the number of events read."""
    count = 0
    with writing(engine) as conn:
        raw = Raw(conn)
        raw.run("DELETE FROM case_projections")
        rows: list[dict[str, Any]] = []
        stream: _StreamSoFar | None = None
        cursor = raw.execute(REBUILD_QUERY) if not raw.postgres else _server_cursor(conn)
        while chunk := cursor.fetchmany(5000):
            for stream_id, version, event_id, type_, schema_version, occurred_at, recorded_at, data in chunk:
                if stream is None or stream.stream_id != stream_id:
                    if stream is not None:
                        rows.append(stream.row(raw))
                        if len(rows) >= batch:
                            raw.many(INSERT_PROJECTION, rows)
                            rows = []
                    stream = _StreamSoFar(stream_id, recorded_at)
                stream.add(version, event_id, type_, schema_version, occurred_at, recorded_at, data)
                count += 1
        cursor.close()
        if stream is not None:
            rows.append(stream.row(raw))
        if rows:
            raw.many(INSERT_PROJECTION, rows)
    return count


FOLDED = STATE_TYPES | {"EventRetracted"}


class _StreamSoFar:
    """One stream as the rebuild reads it: only events that change state (or withdraw one) are kept for the fold;
    notes and sources only move the stream's version."""

    __slots__ = ("stream_id", "first_recorded", "last_recorded", "version", "latest", "events")

    def __init__(self, stream_id: str, first_recorded: Any):
        self.stream_id, self.first_recorded = stream_id, first_recorded
        self.latest: tuple[Any, int] | None = None
        self.events: list[StoredEvent] = []

    def add(self, version: int, event_id: str, type_: str, schema_version: int, occurred_at: Any, recorded_at: Any,
            data: Any) -> None:
        self.version, self.last_recorded = version, recorded_at
        # Compared raw: SQLite's fixed-width UTC text sorts as the times do; PostgreSQL hands back datetimes.
        if type_ in STATE_TYPES and (self.latest is None or (occurred_at, version) > self.latest):
            self.latest = (occurred_at, version)
        if type_ in FOLDED:
            # recorded_at is left empty: a rebuild folds everything known, it never asks "known when".
            self.events.append(StoredEvent(0, event_id, self.stream_id, version, type_, schema_version,
                                           from_db(occurred_at), "", None, "", data, None, "", ""))

    def row(self, raw: Raw) -> dict[str, Any]:
        updated_at = from_db(self.last_recorded)
        last = (from_db(self.latest[0]), self.latest[1]) if self.latest is not None else None
        values = _row_values(fold(self.events), self.version, last, updated_at)
        values.update(case_id=self.stream_id, updated_at=raw.time(updated_at),
                      opened_at=raw.time(from_db(self.first_recorded)))
        return values


def _server_cursor(conn: Connection):
    """A named (server-side) cursor, so PostgreSQL streams the log instead of sending it all at once."""
    cursor = conn.connection.driver_connection.cursor(name="vigil_rebuild")
    cursor.execute(REBUILD_QUERY)
    return cursor
