"""Plain records passed between the store, the projections and the API."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .catalogue import EventData, read_data, upcast
from .hashchain import canonical_bytes
from .utc import iso, parse_iso  # noqa: F401 -- re-exported: many readers import them from here


@dataclass(frozen=True)
class StoredEvent:
    position: int
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    occurred_at: datetime
    date_precision: str
    recorded_at: datetime
    actor: str
    data_text: str
    source_text: str | None
    prev_hash: str
    hash: str
    log_index: int | None = None  # its leaf in the Merkle log; None only where a store ran without the log

    @property
    def data(self) -> dict[str, Any]:
        """The data as a dict at its type's current schema version: a fresh one each time, as callers may fill
        in opened personal data. The stored text (which the hash covers) is never rewritten."""
        return upcast(self.type, self.schema_version, json.loads(self.data_text))

    def typed_data(self) -> EventData:
        """The data as its catalogue model (see catalogue.read_data); only for types in the catalogue."""
        return read_data(self.type, self.schema_version, self.data_text)

    @property
    def source(self) -> dict[str, Any] | None:
        return json.loads(self.source_text) if self.source_text else None

    def canonical(self) -> bytes:
        return canonical_event(self.event_id, self.stream_id, self.version, self.type, self.schema_version,
                               self.occurred_at, self.date_precision, self.recorded_at, self.actor,
                               self.data_text, self.source_text)


_STORED_FIELDS = tuple(StoredEvent.__dataclass_fields__)


def stored_event(values: tuple) -> StoredEvent:
    """`StoredEvent(*values)`, built without the frozen dataclass's `object.__setattr__` per field (some 2 µs of
    fifteen): a bulk load makes one per event. Still frozen and equal to the one the constructor makes."""
    event = object.__new__(StoredEvent)
    event.__dict__.update(zip(_STORED_FIELDS, values))
    return event


def canonical_event(event_id: str, stream_id: str, version: int, type_: str, schema_version: int,
                    occurred_at: datetime, date_precision: str, recorded_at: datetime, actor: str,
                    data_text: str, source_text: str | None) -> bytes:
    """The bytes an event's hash covers (everything but its position and its own chain links)."""
    return canonical_bytes([event_id, stream_id, version, type_, schema_version, iso(occurred_at), date_precision,
                            iso(recorded_at), actor, data_text, source_text])


@dataclass(frozen=True)
class AppendResult:
    event_id: str
    stream_id: str
    version: int
    position: int
    created: bool  # False when an idempotent retry returned the earlier result
    log_index: int | None = None
