"""Several concurrent writers and a polling reader of the global feed: nothing skipped, nothing seen twice."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

from events.case_projections import CaseProjections
from events.store import EventStore, NewEvent

WRITERS, APPENDS_EACH = 6, 60
T0 = datetime(2023, 1, 1, tzinfo=timezone.utc)


def test_polling_reader_sees_every_event_once_in_order(engine, clock):
    store = EventStore(engine, clock, projection=CaseProjections())
    done = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            sid = str(uuid.uuid4())
            store.append(sid, [NewEvent("CaseOpened", T0, {"person": "v1.x", "country": "KZ", "teams": []})],
                         actor="w", new_stream=True)
            for i in range(APPENDS_EACH - 1):
                store.append(sid, [NewEvent("NoteAdded", T0, {"text": str(i)})], actor="w")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    def reader() -> None:
        last = 0
        while True:
            finished = done.is_set()  # read the flag first: a final pass after the writers stopped
            batch = store.read_all(after_position=last, limit=37)
            for event in batch:
                seen.append(event.position)
                last = event.position
            if finished and not batch:
                return

    poller = threading.Thread(target=reader)
    poller.start()
    writers = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    poller.join(timeout=60)
    assert not errors
    everything = [e.position for e in store.read_all(0, limit=100_000)]
    assert len(everything) == WRITERS * APPENDS_EACH
    assert seen == everything  # same events, same order, none twice, none skipped
