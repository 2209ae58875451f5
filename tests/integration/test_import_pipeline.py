"""The import writes each batch before it reads the next line: problems come in line order (a batch's own, found
while writing, before those of later lines), counts add up, and a failed write fails the import."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from service.access import Principal
from service.import_lines import reader_for

WHO = Principal("import", "vigil import", "admin", "lyon", kind="system")
OPENING = {"case": {"ref": "R-1", "person": {"name": "A. Person"}, "country": "FR"}}


def ndjson(*lines) -> bytes:
    return b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)


def event(event_id: str, place: str, day: int) -> dict:
    return {"event": {"case_ref": "R-1", "type": "Detained", "occurred_at": f"2024-01-{day:02d}T10:00:00Z",
                      "data": {"place": place}, "event_id": event_id}}


def test_problems_found_while_writing_come_before_those_of_lines_read_meanwhile(box, engine):
    taken = str(uuid.uuid4())
    first = box.imports.run(WHO, reader_for("ndjson", ndjson(OPENING, event(taken, "Lyon", 1))))
    assert (first.cases_opened, first.events_stored, first.bad_lines) == (1, 1, 0)
    box.imports.batch_events = 1  # each good line its own batch: a write is in flight while the next line is read
    # Line 1 reuses an id stored by the first import for other content: only its write finds that. Lines 2 and
    # 4 are bad as read, while the writes of lines 1 and 3 are in flight.
    second = box.imports.run(WHO, reader_for("ndjson", ndjson(
        event(taken, "Nice", 2), b"{not json", event(str(uuid.uuid4()), "Metz", 3), b"[]",
        event(str(uuid.uuid4()), "Caen", 4))))
    assert [(p.line, p.field) for p in second.problems] == [(1, "event.event_id"), (2, "line"), (4, "line")]
    assert (second.events_stored, second.already_present, second.bad_lines) == (2, 0, 3)
    with engine.connect() as conn:
        places = conn.execute(text("SELECT data FROM events WHERE type = 'Detained' ORDER BY position")).scalars()
        assert [json.loads(d)["place"] for d in places] == ["Lyon", "Metz", "Caen"]  # in line order


def test_a_failed_write_fails_the_import_and_later_batches_are_not_written(box, engine, monkeypatch):
    box.imports.batch_events = 1
    import service.importer as importer

    calls = []
    real = importer.bulk_append

    def failing_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk gone")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "bulk_append", failing_second)
    lines = [OPENING] + [event(str(uuid.uuid4()), f"P{i}", i) for i in range(1, 6)]
    with pytest.raises(RuntimeError, match="disk gone"):
        box.imports.run(WHO, reader_for("ndjson", ndjson(*lines)))
    assert len(calls) == 2  # the third batch was never handed to the writer
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM events")).scalar() == 1  # the opening only


def test_an_event_of_an_earlier_batch_can_be_named_though_its_id_was_derived(box, engine):
    from service.importer import derived_id

    box.imports.run(WHO, reader_for("ndjson", ndjson(OPENING)))
    with engine.connect() as conn:
        case_id = conn.execute(text("SELECT case_id FROM case_projections")).scalar_one()
    box.imports.batch_events = 1  # line 1's batch is being written while line 2 is read
    first = json.dumps({"event": {"case_id": case_id, "type": "Detained", "occurred_at": "2024-01-01T10:00:00Z",
                                  "data": {"place": "Lyon"}}}).encode()
    named = derived_id(f"{case_id}\x00{first.decode()}\x001")
    retract = {"event": {"case_id": case_id, "type": "EventRetracted", "occurred_at": "2024-01-02T10:00:00Z",
                         "data": {"event_id": named, "reason": "entered twice"}}}
    summary = box.imports.run(WHO, reader_for("ndjson", ndjson(first, retract)))
    assert (summary.events_stored, summary.bad_lines) == (2, 0), summary.problems
