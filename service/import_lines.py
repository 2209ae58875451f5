"""An import file read line by line: NDJSON or CSV into case and event lines, each validated as the API would."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from pydantic import ValidationError

from events.store import NewEvent

from .cases import check_event, field_errors, not_in_future
from .errors import InputError
from .import_fast import ABSENT, fast_event
from .schemas import CaseIn, EventIn

MAX_REF = 200
# The CSV form: one row per event, the case's columns repeated (read on the first row of each case_ref).
CSV_HEADER = ("case_ref", "case_id", "name", "aliases", "birth_year", "nationality", "country", "origin_country",
              "tags", "teams", "summary", "timezone", "opened_at", "type", "occurred_at", "date_precision", "data",
              "source_url", "source_title", "event_id")
LISTS = ("aliases", "tags", "teams")  # several values in one cell, separated by ";"


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class CaseLine:
    number: int
    ref: str
    body: CaseIn


@dataclass(slots=True)  # not frozen: one per imported event, and frozen costs a __setattr__ call per field
class EventLine:
    number: int
    ref: str | None
    case_id: str | None
    body: EventIn
    event: NewEvent  # validated; personal data still plain
    content: str  # the line as written: what an id is derived from, and what tells a reused id apart


Line = CaseLine | EventLine


def _problems(number: int, detail: list[dict[str, Any]], prefix: str) -> list[Problem]:
    out = []
    for err in detail:
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] == "body":
            loc = loc[1:]
        out.append(Problem(number, ".".join([prefix, *loc]), err["msg"]))
    return out


def _ref(number: int, raw: Any, field: str) -> tuple[str | None, list[Problem]]:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_REF or not raw.isprintable():
        return None, [Problem(number, field, f"must be a non-empty single-line text of at most {MAX_REF} characters")]
    return raw, []


def parse_object(number: int, obj: Any, now: datetime, raw: bytes = b"") -> Line | list[Problem]:
    """One line's object: {"case": {...}} or {"event": {...}}, validated; or what is wrong with it. `raw` is the
    line as written, what an event without an id is known by."""
    if not isinstance(obj, dict) or len(obj) != 1 or next(iter(obj)) not in ("case", "event"):
        return [Problem(number, "line", 'must be an object with one key, "case" or "event"')]
    kind, body = next(iter(obj.items()))
    if not isinstance(body, dict):
        return [Problem(number, kind, "must be an object")]
    body = dict(body)
    if kind == "case":
        ref, problems = _ref(number, body.pop("ref", None), "case.ref")
        try:
            case = CaseIn.model_validate(body)
            if case.occurred_at is not None:
                not_in_future(case.occurred_at, now)
        except ValidationError as exc:
            return problems + _problems(number, field_errors(exc, ()), "case")
        except InputError as exc:
            return problems + _problems(number, exc.detail, "case")
        return problems or CaseLine(number, ref, case)
    given = [k for k in ("case_ref", "case_id") if k in body]
    problems = []
    if len(given) != 1:
        problems.append(Problem(number, "event.case_ref", "give exactly one of case_ref and case_id"))
    ref = case_id = None
    if "case_ref" in given:
        ref, wrong = _ref(number, body.pop("case_ref"), "event.case_ref")
        problems += wrong
    if "case_id" in given:
        case_id, wrong = _ref(number, body.pop("case_id"), "event.case_id")
        problems += wrong
    try:
        event_in = EventIn.model_validate(body)
        event = check_event(event_in, now)
    except ValidationError as exc:
        return problems + _problems(number, field_errors(exc, ()), "event")
    except InputError as exc:
        return problems + _problems(number, exc.detail, "event")
    if problems:
        return problems
    return EventLine(number, ref, case_id, event_in, event, raw.strip().decode("utf-8", "replace"))


def _fast_line(number: int, raw: bytes, now: datetime) -> EventLine | None:
    """The event line as parse_object would make it, if one pass finds it valid; None to take that path."""
    found = fast_event(raw, now)
    if found is None:
        return None
    ref, case_id, body, event = found
    if (ref is ABSENT) == (case_id is ABSENT) or _ref(number, case_id if ref is ABSENT else ref, "")[1]:
        return None
    return EventLine(number, None if ref is ABSENT else ref, None if case_id is ABSENT else case_id, body, event,
                     raw.strip().decode("utf-8", "replace"))


UNDECODED = object()  # an NDJSON line not yet decoded: see parse_read
_decode = json.JSONDecoder().decode


def _decoded(number: int, raw: bytes) -> Any:
    try:
        # Decoded here rather than by json.loads, which would first guess the encoding of every line; as
        # "utf-8-sig" would (one leading byte order mark dropped) without that codec's Python-level wrapper.
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        return _decode(text)
    except (ValueError, UnicodeDecodeError) as exc:
        return Problem(number, "line", f"not valid JSON: {getattr(exc, 'msg', 'undecodable text')}")


def parse_read(number: int, obj: Any, now: datetime, raw: bytes) -> Line | list[Problem]:
    """One line as a reader gave it: an NDJSON line is first tried in one pass, then decoded and parsed as the
    API does (which alone names what is wrong)."""
    if obj is UNDECODED:
        line = _fast_line(number, raw, now)
        if line is not None:
            return line
        obj = _decoded(number, raw)
    if isinstance(obj, Problem):
        return [obj]
    return parse_object(number, obj, now, raw)


# line number, the decoded object (UNDECODED, or a Problem), bytes read, the line as written
Read = tuple[int, Any, int, bytes]


def read_ndjson(source: Iterable[bytes]) -> Iterator[Read]:
    """Each non-blank line, decoded later by parse_read."""
    for number, raw in enumerate(source, 1):
        if raw.strip():
            yield number, UNDECODED, len(raw), raw


def _cell_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def read_csv(source: Iterable[bytes]) -> Iterator[Read]:
    """The CSV form as the same objects: a case object on the first row of each case_ref, then each row's event."""
    sizes: list[int] = []

    def text_lines() -> Iterator[str]:
        for raw in source:
            sizes.append(len(raw))
            yield raw.decode("utf-8-sig", errors="replace")

    reader = csv.DictReader(text_lines(), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        yield 1, Problem(1, "header", f"not valid CSV: {exc}"), sum(sizes), b""
        return
    unknown = [h for h in header if h not in CSV_HEADER]
    if unknown or "type" not in header:
        yield 1, Problem(1, "header", f"columns must be among: {', '.join(CSV_HEADER)} (with type); "
                                      f"unknown: {', '.join(unknown)[:200] or 'none'}"), sum(sizes), b""
        return
    seen: set[str] = set()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            size = sum(sizes)
            sizes.clear()  # else each bad row after it counts its bytes again: quadratic time on a run of them
            yield reader.line_num, Problem(reader.line_num, "line", f"not valid CSV: {exc}"), size, b""
            continue
        number, size = reader.line_num, sum(sizes)
        sizes.clear()
        if None in row:
            yield number, Problem(number, "line", "has more cells than the header"), size, b""
            continue
        cells = {k: (v or "").strip() for k, v in row.items()}
        ref = cells.get("case_ref") or None
        if ref and ref not in seen:
            seen.add(ref)
            case: dict[str, Any] = {"ref": ref, "person": {"name": cells.get("name", "")}}
            for field in ("aliases", "birth_year", "nationality"):
                if cells.get(field):
                    case["person"][field] = _cell_list(cells[field]) if field in LISTS else cells[field]
            for field in ("country", "origin_country", "tags", "teams", "summary", "timezone"):
                if cells.get(field):
                    case[field] = _cell_list(cells[field]) if field in LISTS else cells[field]
            if cells.get("opened_at"):
                case["occurred_at"] = cells["opened_at"]
            yield number, {"case": case}, size, b""
            size = 0
        if not cells.get("type"):
            continue  # a row that only opens its case
        event: dict[str, Any] = {"type": cells["type"], "occurred_at": cells.get("occurred_at") or None}
        if ref:
            event["case_ref"] = ref
        if cells.get("case_id"):
            event["case_id"] = cells["case_id"]
        for field in ("date_precision", "event_id"):
            if cells.get(field):
                event[field] = cells[field]
        if cells.get("source_url") or cells.get("source_title"):
            event["source"] = {k: cells[f"source_{k}"] for k in ("url", "title") if cells.get(f"source_{k}")}
        if cells.get("data"):
            try:
                event["data"] = json.loads(cells["data"])
            except ValueError as exc:
                yield number, Problem(number, "event.data", f"not valid JSON: {exc.msg}"), size, b""
                continue
        yield number, {"event": event}, size, json.dumps(event, sort_keys=True).encode()


def reader_for(fmt: str, data: bytes | Iterable[bytes]) -> Iterator[Read]:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    return read_csv(source) if fmt == "csv" else read_ndjson(source)
