"""The one-pass reading of an event line accepts exactly what the API's path accepts, and makes the same event."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events.catalogue import EVENT_TYPES
from service.import_fast import _BARE_DATE
from service.import_lines import UNDECODED, EventLine, _decoded, _fast_line, parse_object, parse_read

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
TYPES = sorted(EVENT_TYPES) * 3 + ["NoSuchType", "", 5, None]
POOL = [
    "Lyon", "FR", "fr", "UZ", "CA Lyon", "  padded  ", "", " ", "a\nb", "tab\there", "x" * 301, "\x07bell",
    "2024-01-02", "2024-02-30", "2024-01-02T10:00:00+00:00", "2024-01-02T10:00:00", "2031-01-01T00:00:00Z",
    "1850-01-01T00:00:00Z", "6f1d3c52-57a1-4c39-9a43-2b4c8f1e0a77", "https://example.org/a", "ftp://x",
    "extradition", "asylum", "membership", "lawyer", "high", "ECtHR", 0, 1, -3, 2.5, True, None,
    ["membership"], ["a", 1], [], {}, {"name": "A"}, {"nested": {"x": 1}}, "Ünïcødé ✓", "2030-01-01T00:00Z",
    "lawyer", "family", "court", "police", "embassy", "granted", "refused", "CA Lyon", "2024-05-01T09:00:00+02:00",
]
VALUES = st.sampled_from(POOL)


def _good(model, name: str) -> list:
    """The pool's values that the field takes (judged alone), so that most generated lines are valid ones."""
    def fits(value) -> bool:
        try:
            model.model_validate({name: value})
        except ValidationError as exc:
            return all(err["loc"][:1] != (name,) for err in exc.errors())
        return True
    return [v for v in POOL if fits(v)] or POOL


GOOD = {kind.name: {name: _good(kind.model, name) for name in kind.model.model_fields} for kind in EVENT_TYPES.values()}
FIELDS = sorted({name for kind in EVENT_TYPES.values() for name in kind.model.model_fields} | {"extra_field"})
MOMENTS = st.sampled_from(["2024-01-02T10:00:00+00:00", "2024-01-02", "2024-01", "2024-01-02T10:00:00",
                           "2026-12-03T11:00:00+00:00", "2026-12-04T13:00:00+00:00", "1899-12-31T23:00:00Z",
                           "not a date", 20240102, None])
REFS = st.sampled_from(["C-1"] * 7 + ["", "  ", "a\nb", "r" * 201, "ok " * 66, 7, None])


@st.composite
def event_lines(draw) -> bytes:
    kind = draw(st.sampled_from(TYPES))
    good = GOOD.get(kind, {})
    data = {name: draw(st.sampled_from(values) if draw(st.integers(0, 9)) else VALUES)
            for name, values in good.items() if draw(st.integers(0, 3))}
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.sampled_from(FIELDS))] = draw(VALUES)
    event: dict = {"type": kind}
    for key, strategy in (("occurred_at", MOMENTS if draw(st.integers(0, 3)) == 0 else st.just("2024-01-02")), ("data", st.just(data)), ("case_ref", REFS), ("case_id", REFS),
                          ("date_precision", st.sampled_from(["exact", "day", "month", "year", "week"])),
                          ("source", st.sampled_from([{"url": "https://example.org/x"}, {"title": "T"}, {"x": 1}, {"title": "T "},
                                                      {"url": "nope"}, None])),
                          ("event_id", st.sampled_from(["6f1d3c52-57a1-4c39-9a43-2b4c8f1e0a77", "6F1D3C5257A14C399A432B4C8F1E0A77",
                                                        "not-a-uuid", None])),
                          ("surplus", VALUES)):
        wanted = {"occurred_at": 0.97, "data": 0.95, "case_ref": 0.95, "case_id": 0.05, "surplus": 0.03}.get(key, 0.3)
        if draw(st.floats(0, 1)) < wanted:
            event[key] = draw(strategy)
    line = {"event": event}
    if draw(st.integers(0, 40)) == 0:
        line["case"] = {}
    return json.dumps(line, ensure_ascii=draw(st.booleans())).encode() + draw(st.sampled_from([b"", b"\n", b" \r\n"]))


def _api_path(raw: bytes):
    obj = _decoded(1, raw)
    return parse_object(1, obj, NOW, raw)


def _same(fast, api) -> bool:
    if isinstance(api, list):
        return fast == api
    return (isinstance(fast, EventLine) and (fast.number, fast.ref, fast.case_id, fast.event, fast.content)
            == (api.number, api.ref, api.case_id, api.event, api.content) and fast.body.event_id == api.body.event_id)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_lines())
def test_one_pass_agrees_with_the_api_path(raw):
    assert _same(parse_read(1, UNDECODED, NOW, raw), _api_path(raw))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_lines())
def test_what_the_one_pass_accepts_the_api_accepts_unchanged(raw):
    fast = _fast_line(1, raw, NOW)
    if fast is not None:
        assert _same(fast, _api_path(raw))


def test_a_valid_line_of_each_appendable_type_takes_the_one_pass():
    samples = {"Detained": {"place": "Lyon"}, "Released": {}, "AppealFiled": {"court": "CA Lyon"},
               "ContactEstablished": {"with_whom": "lawyer"}, "NoteAdded": {"text": "seen\ntoday"}}
    for kind, data in samples.items():
        raw = json.dumps({"event": {"case_ref": "C-1", "type": kind, "occurred_at": "2024-01-02",
                                    "data": data}}).encode()
        fast = _fast_line(1, raw, NOW)
        assert fast is not None, kind
        assert _same(fast, _api_path(raw))
        assert fast.event.date_precision == "day"


def test_lines_the_one_pass_leaves_to_the_api_path():
    for raw in (b'{"event": {"case_ref": "C-1", "type": "PersonDetailsUpdated", "occurred_at": "2024-01-02", '
                b'"data": {"person": {"name": "A"}}}}',  # kept as plain data for sealing
                b'\xef\xbb\xbf{"event": {"case_ref": "C-1", "type": "Released", "occurred_at": "2024-01-02"}}',
                b'{"event": {"case_ref": "C-1", "case_id": "x", "type": "Released", "occurred_at": "2024-01-02"}}',
                b'{"event": {"case_ref": "C-1", "type": "Released", "occurred_at": "2027-01-02"}}'):
        assert _fast_line(1, raw, NOW) is None
        assert _same(parse_read(1, UNDECODED, NOW, raw), _api_path(raw))


FULL_MOMENTS = st.sampled_from(["2024-01-02T10:00:00+00:00", "2024-01-02T10:00:00", "2026-12-03T11:00:00+00:00",
                                "2024-05-01T09:00:00+02:00", "1899-12-31T23:00:00Z", "2024-01-02T00:00Z", 20240102,
                                "1704189600", "not a date", None])


@st.composite
def timed_lines(draw) -> bytes:
    """Lines whose occurred_at is no bare date (or none at all): the reader without schemas.dated takes them."""
    line = json.loads(draw(event_lines()))
    event = line.get("event")
    if isinstance(event, dict):
        if draw(st.integers(0, 9)):
            event["occurred_at"] = draw(FULL_MOMENTS)
        else:
            event.pop("occurred_at", None)
    return json.dumps(line).encode()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timed_lines())
def test_the_reader_without_bare_dates_agrees_with_the_api_path(raw):
    assert not _BARE_DATE.search(raw)
    assert _same(parse_read(1, UNDECODED, NOW, raw), _api_path(raw))


def test_a_bare_date_the_byte_search_misses_is_still_read_as_the_api_reads_it():
    for moment in (b'"\\u0032024-01-02"', b'"2024\\u002d01-02"'):
        raw = b'{"event": {"case_ref": "C-1", "type": "Released", "occurred_at": ' + moment + b'}}'
        assert not _BARE_DATE.search(raw)
        api = _api_path(raw)
        assert isinstance(api, EventLine) and api.event.date_precision == "day"
        assert _same(parse_read(1, UNDECODED, NOW, raw), api)
