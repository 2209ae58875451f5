"""A process that appends from eight threads and says on stdout what it was told: `ack <stream> <n>` once an
append of two events returned, `shared` as a leader takes a second append into its batch (for the kill test)."""
from __future__ import annotations

import sys
import threading
import uuid
from datetime import datetime, timezone

from events.case_projections import CaseProjections
from events.clock import SystemClock
from events.engine import make_engine
from events.store import ConcurrencyConflict, EventStore, NewEvent

T0 = datetime(2023, 11, 1, tzinfo=timezone.utc)
WRITERS = 8
_said = threading.Lock()


def say(line: str) -> None:
    with _said:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main(url: str) -> None:
    store = EventStore(make_engine(url), SystemClock(), projection=CaseProjections())
    write_batch = store._group._write_batch

    def announced(take):
        taken = 0

        def counted():
            nonlocal taken
            request = take()
            taken += request is not None
            if taken == 2 and request is not None:
                say("shared")
            return request
        return write_batch(counted)
    store._group._write_batch = announced

    def write() -> None:
        sid = str(uuid.uuid4())
        store.append(sid, [NewEvent("CaseOpened", T0, {"person": "v1.x", "country": "FR", "teams": ["t"]})],
                     actor="w", new_stream=True)
        version = 1
        for n in range(1_000_000):
            if n % 7 == 3:  # a stale one now and then: it fails alone, mid-batch
                try:
                    store.append(sid, [NewEvent("NoteAdded", T0, {"text": "stale"})], actor="w",
                                 expected_version=version - 1)
                except ConcurrencyConflict:
                    pass
                else:
                    raise AssertionError("a stale append was written")
            store.append(sid, [NewEvent("NoteAdded", T0, {"text": f"{n}a"}),
                               NewEvent("NoteAdded", T0, {"text": f"{n}b"})], actor="w", expected_version=version)
            version += 2
            say(f"ack {sid} {n}")
    for _ in range(WRITERS):
        threading.Thread(target=write).start()


if __name__ == "__main__":
    main(sys.argv[1])
