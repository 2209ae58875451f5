"""Bulk import of a team's history: validated lines written in large transactions, each event exactly once."""
from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from sqlalchemy import Connection

from events.bulk import BulkResult, StreamBatch, bulk_append
from events.catalogue import PersonUpdate
from events.compact_json import compact_sorted
from events.fastsql import Raw
from events.name_keys import person_names
from events.personal_data import PersonalDataCipher
from events.store import NewEvent

from .access import Principal
from .cases import PERSONAL_TYPES, TARGETS, CaseService, opening_data
from .import_fast import new_event
from .import_lines import CaseLine, EventLine, Problem, Read, parse_read
from .views import merge_person

BATCH_EVENTS = 2000  # events per transaction: large enough to share each commit, small enough to hold in memory
MAX_PROBLEMS = 1000  # bad lines reported in full; beyond that only counted
ID_SPACE = uuid.UUID("6f1d3c52-57a1-4c39-9a43-2b4c8f1e0a77")  # uuid5 namespace of ids derived from line content
_SPACE_BYTES = ID_SPACE.bytes
_TARGETED = frozenset(t for _, t in TARGETS.values() if t)  # types another event may name


_VARIANT = "89ab" * 4  # the RFC 4122 variant's hex digit, by the digest's own digit there


def derived_id(name: str) -> str:
    """`str(uuid.uuid5(ID_SPACE, name))`, without building a UUID object: one per imported line."""
    x = hashlib.sha1(_SPACE_BYTES + name.encode("utf-8")).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[int(x[16], 16)]}{x[17:20]}-{x[20:32]}"  # version 5


def _with_id(event: NewEvent, event_id: str) -> NewEvent:
    """`dataclasses.replace(event, event_id=event_id)`, cheaper: one per imported line without an id."""
    return new_event(**{**event.__dict__, "event_id": event_id})


@dataclass
class ImportSummary:
    cases_opened: int = 0
    events_stored: int = 0
    already_present: int = 0
    bad_lines: int = 0
    problems: list[Problem] = field(default_factory=list)
    checked_only: bool = False
    # One bit per line number (a CSV row's case and event may both be bad, yet it is one line): a set of ints
    # would cost some 60 bytes a bad line, gigabytes for a 64 MB body of two-byte lines.
    _bad: bytearray = field(default_factory=bytearray, repr=False)

    def add(self, problems: list[Problem]) -> None:
        for p in problems:
            byte, bit = divmod(p.line, 8)
            if byte >= len(self._bad):
                self._bad.extend(bytes(max(byte + 1 - len(self._bad), len(self._bad))))
            if not self._bad[byte] & (1 << bit):
                self._bad[byte] |= 1 << bit
                self.bad_lines += 1
        room = MAX_PROBLEMS - len(self.problems)
        self.problems.extend(problems[:max(room, 0)])

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.checked_only, "cases_opened": self.cases_opened, "events_stored": self.events_stored,
                "already_present": self.already_present, "bad_lines": self.bad_lines,
                "problems": [p.as_dict() for p in self.problems]}


@dataclass
class _Pending:
    line: CaseLine | EventLine
    case_id: str
    event: NewEvent


@dataclass
class _Written:
    """What writing one batch found, told to the summary in batch order."""
    lines: int
    cases_opened: int
    events_stored: int
    already_present: int = 0
    erased: list[Problem] = field(default_factory=list)
    mismatched: list[Problem] = field(default_factory=list)


Progress = Callable[[int, int], None]  # (events stored or checked so far, bytes read so far)


class ImportService:
    """Reads lines, resolves each to its case, and writes them through `bulk_append` in batches."""

    def __init__(self, cases: CaseService, batch_events: int = BATCH_EVENTS):
        self.cases, self.store, self.clock = cases, cases.store, cases.clock
        self.batch_events = batch_events
        self._ref_key = cases.cipher.derive_key("case-refs")
        self._case_ids: dict[tuple[str, str], str] = {}

    def case_id_for(self, team: str, ref: str) -> str:
        """The case a team's client reference opens: the same on every run, unguessable without the master key."""
        found = self._case_ids.get((team, ref))
        if found is None:
            digest = hmac.new(self._ref_key, f"{team}\x00{ref}".encode(), hashlib.sha256).digest()
            found = str(uuid.UUID(bytes=digest[:16], version=4))
            if len(self._case_ids) < 100_000:  # a cache: refs recur on every line of their case
                self._case_ids[(team, ref)] = found
        return found

    def run(self, who: Principal, lines: Iterator[Read], check: bool = False,
            progress: Progress | None = None) -> ImportSummary:
        return _Run(self, who, check, progress).go(lines)


class _Run:
    """One import: the state kept from line to line (refs opened, ids seen) and the batch being filled."""

    def __init__(self, service: ImportService, who: Principal, check: bool, progress: Progress | None):
        self.s, self.who, self.check, self.progress = service, who, check, progress
        self.summary = ImportSummary(checked_only=check)
        self.now = service.clock.now()
        self.opened: dict[str, int] = {}  # case_id -> line of its case line, for refs opened in this file
        self.existing: dict[str, bool] = {}  # case_id -> exists and this caller may write to it
        self.ids: dict[tuple[str, str], tuple[NewEvent | None, int]] = {}  # (case, event id) -> (event, line)
        self.kinds: dict[tuple[str, str], str] = {}  # (case, event id) -> type, for events that name another
        self.occurrences: dict[tuple[str, str], int] = {}
        self.pending: list[_Pending] = []
        self.bytes = 0
        self.done = 0

    def go(self, lines: Iterator[Read]) -> ImportSummary:
        # Each batch is written here, before the next line is read. A second thread writing one batch while this
        # one read the next overlapped almost nothing: the writer let go of the GIL at every statement and row,
        # then waited for this thread's switch interval to get it back, and the two threads' hand-offs cost
        # about a tenth more CPU than writing in turn (bench/results.md, section 9).
        add = self.summary.add
        for number, obj, size, raw in lines:
            self.bytes += size
            parsed = parse_read(number, obj, self.now, raw)
            if isinstance(parsed, list):
                add(parsed)
                continue
            problem = self._resolve(parsed)
            if problem is not None:
                add([problem])
            if len(self.pending) >= self.s.batch_events:
                self._flush()
        self._flush()
        return self.summary

    # ---- resolving each line to its case and its event id ----
    def _resolve(self, line: CaseLine | EventLine) -> Problem | None:
        if isinstance(line, CaseLine):
            case_id = self.s.case_id_for(self.who.team, line.ref)
            if case_id in self.opened:
                return Problem(line.number, "case.ref", f"case {line.ref!r} was opened already on line "
                                                        f"{self.opened[case_id]}")
            self.opened[case_id] = line.number
            event = NewEvent("CaseOpened", line.body.occurred_at or self.now, {}, line.body.date_precision,
                             event_id=derived_id(f"{case_id}\x00opened"))
            self.pending.append(_Pending(line, case_id, event))
            return None
        if line.ref is not None:
            case_id = self.s.case_id_for(self.who.team, line.ref)
            if case_id not in self.opened and not self._exists(case_id):
                return Problem(line.number, "event.case_ref", f"no case {line.ref!r} is opened above this line "
                                                              "or by an earlier import of this team")
        else:
            case_id = line.case_id
            if case_id not in self.opened and not self._exists(case_id):
                return Problem(line.number, "event.case_id", "no such case, or not one this key may write to")
        event = line.event
        if event.event_id is None:
            # Derived from what the line says (and how often the same line came before in this case), so a
            # re-run of the same file finds it.
            seen = (case_id, line.content)
            count = self.occurrences[seen] = self.occurrences.get(seen, 0) + 1
            event = _with_id(event, derived_id(f"{case_id}\x00{line.content}\x00{count}"))
        key = (case_id, event.event_id)
        earlier = self.ids.get(key)
        if earlier is not None:
            if line.body.event_id is not None and earlier[0] != event:  # type, time, data, source
                return Problem(line.number, "event.event_id", f"already used on line {earlier[1]} for a different "
                                                              "event of this case")
            self.summary.already_present += 1
            return None
        if event.type in TARGETS:
            problem = self._check_target(line, case_id, event)
            if problem is not None:
                return problem
        # A derived id is the content's own: only a given one can come back with other content.
        self.ids[key] = (event if line.body.event_id is not None else None, line.number)
        if event.type in _TARGETED or line.body.event_id is not None:
            self.kinds[key] = event.type
        self.pending.append(_Pending(line, case_id, event))
        return None

    def _exists(self, case_id: str) -> bool:
        if case_id not in self.existing:
            teams = self.s.cases.repository.teams(case_id)
            self.existing[case_id] = teams is not None and self.who.may_see(teams)
        return self.existing[case_id]

    def _check_target(self, line: EventLine, case_id: str, event: NewEvent) -> Problem | None:
        name, wanted = TARGETS[event.type]
        target = str(event.data[name])
        kind = self.kinds.get((case_id, target))
        if kind is None and case_id not in self.opened:
            found = next((e for e in self.s.store.read_stream(case_id) if e.event_id == target), None)
            kind = found.type if found is not None else None
        if kind is None or (wanted is not None and kind != wanted):
            what = "an event of this case" if wanted is None else f"a {wanted} event of this case"
            return Problem(line.number, f"event.data.{name}", f"{target} is not {what} (above this line)")
        return None

    # ---- writing a batch ----
    def _flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return
        if self.check:
            self.done += len(pending)
            self._tell()
            return
        self._written(self._write(pending))

    def _written(self, outcome: _Written) -> None:
        self.summary.add(outcome.erased)
        self.summary.cases_opened += outcome.cases_opened
        self.summary.events_stored += outcome.events_stored
        self.summary.already_present += outcome.already_present
        self.summary.add(outcome.mismatched)
        self.done += outcome.lines
        self._tell()

    def _write(self, pending: list[_Pending]) -> _Written:
        """Seal, then append the batch in one transaction."""
        case_ids = list(dict.fromkeys(p.case_id for p in pending))
        wrapped = self.s.cases.repository.wrapped_keys(case_ids)
        keys = {c: self.s.cases.data_keys.unwrap(c, w) for c, w in wrapped.items()}
        new_keys: dict[str, bytes] = {}
        names: dict[str, list[dict]] = {}  # the person as each case opened here stands, for the name index
        updates: list[tuple[str, dict]] = []  # person updates of cases opened before this batch
        by_case: dict[str, list[NewEvent]] = {}
        opens: set[str] = set()
        erased: list[Problem] = []
        for item in pending:
            event = item.event
            if isinstance(item.line, CaseLine):
                body = item.line.body
                key = keys.get(item.case_id)
                if key is None:  # a new case (or one erased, whose opening is then found stored and skipped)
                    key = new_keys[item.case_id] = PersonalDataCipher.new_key()
                    keys[item.case_id] = key
                    names[item.case_id] = [body.person.model_dump()]
                person = self.s.cases.cipher.seal(key, item.case_id, body.person.model_dump(mode="json"))
                event = NewEvent("CaseOpened", event.occurred_at, opening_data(self.who, body, person),
                                 event.date_precision, event_id=event.event_id)
                opens.add(item.case_id)
            elif event.type == "PersonDetailsUpdated":
                key = keys.get(item.case_id)
                if key is None:
                    erased.append(Problem(item.line.number, "event.data.person",
                                          "personal data of this case was erased"))
                    continue
                update = PersonUpdate.model_validate(item.line.body.data["person"])
                plain = update.model_dump(mode="json", exclude_none=True)
                event = NewEvent(event.type, event.occurred_at,
                                 {**event.data, "person": self.s.cases.cipher.seal(key, item.case_id, plain)},
                                 event.date_precision, event.source, event.event_id)
                if item.case_id in names:
                    names[item.case_id].append(plain)
                else:
                    updates.append((item.case_id, plain))
            by_case.setdefault(item.case_id, []).append(event)
        batches = [StreamBatch(c, events, c in opens) for c, events in by_case.items()]
        cases = self.s.cases

        def before_insert(conn: Connection, result: BulkResult) -> None:
            # Under the append lock, in the batch's transaction: the new cases' keys and name index rows.
            raw_keys = [{"c": c, "w": cases.data_keys.wrap(c, new_keys[c]), "t": self.now} for c in result.opened]
            _insert_many(conn, "INSERT INTO case_keys (case_id, wrapped_key, created_at) VALUES (:c, :w, :t)",
                         raw_keys)
            rows = [{"c": c, "h": h} for c in result.opened
                    for h in sorted(cases.names.digests(person_names(merge_person(names[c]))))]
            _insert_many(conn, "INSERT INTO name_index (case_id, hash) VALUES (:c, :h)", rows)
            for case_id, plain in updates:
                if case_id not in result.opened:
                    cases._reindex(conn, case_id, plain)

        result = bulk_append(self.s.store, batches, actor=self.who.actor, before_insert=before_insert)
        outcome = _Written(len(pending), len(result.opened),
                           sum(len(v) for v in result.stored.values()) - len(result.opened), erased=erased)
        mismatched = outcome.mismatched
        # Looked up only on a re-run: what is compared (type, time, and data but for sealed personal data) is the
        # same before and after sealing.
        lines = {(p.case_id, p.event.event_id): p for p in pending} if result.present else {}
        for key, present in result.present.items():
            item = lines[key]
            # An opening is derived from the ref alone (its time may be "now"); sealed data differs on every seal.
            same = present.type == item.event.type and (item.event.type == "CaseOpened" or (
                present.occurred_at == item.event.occurred_at and (
                    item.event.type in PERSONAL_TYPES or present.data_text == compact_sorted(item.event.data))))
            if same:
                outcome.already_present += 1
            else:
                mismatched.append(Problem(item.line.number, "event.event_id",
                                          "already belongs to a different event in this case"))
        mismatched.sort(key=lambda p: p.line)
        return outcome

    def _tell(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.bytes)


def _insert_many(conn: Connection, sql: str, rows: list[dict]) -> None:
    if rows:
        Raw(conn).many(sql, rows)
