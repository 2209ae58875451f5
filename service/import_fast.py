"""One pydantic-core pass over an NDJSON event line, taken only when the API's own path would accept it unchanged.

The API validates an event in three steps (JSON, `EventIn`, then the type's model and its `model_dump`). Here one
validator reads the raw bytes into the same models (a union keyed by `type`), so a well-formed line costs one
pass. It never decides a rejection: whatever it refuses, or is not sure of, goes back to the API's path, which
names the field (see import_lines.parse_object). tests/unit/test_import_fast.py compares the two over generated
lines."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional, Union

from pydantic import Field, TypeAdapter, ValidationError, create_model
from typing_extensions import Annotated

from events.catalogue import EVENT_TYPES
from events.store import NewEvent

from .cases import not_in_future
from .errors import InputError
from .schemas import EventIn

# Not taken here: the types an import may not append (the API path explains why), and PersonDetailsUpdated, whose
# line keeps its plain `data` dict for sealing (service/importer.py).
_SKIPPED = frozenset({"CaseOpened", "PersonDetailsUpdated"})
ABSENT = object()  # a case_ref or case_id the line does not give


def _variant(name: str, model: type) -> type[EventIn]:
    # EventIn with its `type` fixed and `data` typed; the case's reference is read beside it and checked by the
    # caller. An absent `data` is validated as {} (validate_default), as check_event validates EventIn's default.
    return create_model(f"Import{name}", __base__=EventIn, type=(Literal[name], ...),
                        data=(model, Field(default_factory=dict, validate_default=True)),
                        case_ref=(Any, ABSENT), case_id=(Any, ABSENT))


def _adapter() -> TypeAdapter:
    variants = [_variant(k.name, k.model) for k in EVENT_TYPES.values() if not k.system_only and k.name not in _SKIPPED]
    event = Annotated[Union[tuple(variants)], Field(discriminator="type")]
    line = create_model("ImportEventLine", __config__={"extra": "forbid"}, event=(event, ...))
    return TypeAdapter(line)


_LINE: Optional[TypeAdapter] = None


def fast_event(raw: bytes, now: datetime) -> tuple[Any, Any, EventIn, NewEvent] | None:
    """(case_ref or ABSENT, case_id or ABSENT, the body, the validated event) of an event line the API path would
    accept as it is; None for anything else (the caller then takes that path)."""
    global _LINE
    if _LINE is None:
        _LINE = _adapter()  # built on first use: a command that imports nothing does not pay for it
    try:
        body = _LINE.validate_json(raw).event
    except ValidationError:
        return None
    try:
        not_in_future(body.occurred_at, now)
    except InputError:
        return None
    source = body.source.model_dump(exclude_none=True) if body.source else None
    event = new_event(type=body.type, occurred_at=body.occurred_at,
                      data=body.data.model_dump(mode="json", exclude_none=True), date_precision=body.date_precision,
                      source=source, event_id=str(body.event_id) if body.event_id else None)
    return body.case_ref, body.case_id, body, event


def new_event(**fields: Any) -> NewEvent:
    """`NewEvent(**fields)` (every field given) without the frozen dataclass's `__setattr__` per field, as
    events.records.stored_event does: an import makes one or two per line. Still frozen, and equal."""
    event = object.__new__(NewEvent)
    event.__dict__.update(fields)
    return event

