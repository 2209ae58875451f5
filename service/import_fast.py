"""One pydantic-core pass over an NDJSON event line, taken only when the API's own path would accept it unchanged.

The API validates an event in three steps (JSON, `EventIn`, then the type's model and its `model_dump`). Here one
validator reads the raw bytes into the same models (a union keyed by `type`), so a well-formed line costs one
pass. It never decides a rejection: whatever it refuses, or is not sure of, goes back to the API's path, which
names the field (see import_lines.parse_object). tests/unit/test_import_fast.py compares the two over generated
lines."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model, model_validator
from typing_extensions import Annotated

from events.catalogue import EVENT_TYPES
from events.store import NewEvent

from .cases import not_in_future
from .errors import InputError
from .schemas import EventIn, to_precision

# Not taken here: the types an import may not append (the API path explains why), and PersonDetailsUpdated, whose
# line keeps its plain `data` dict for sealing (service/importer.py).
_SKIPPED = frozenset({"CaseOpened", "PersonDetailsUpdated"})
ABSENT = object()  # a case_ref or case_id the line does not give
# An event's occurred_at written as a bare date, which EventIn's "before" validator (schemas.dated) reads as
# midnight UTC at precision "day". Searched in the raw bytes: a match elsewhere (a data field of that name) only
# sends the line to the reader that has the validator, which accepts the same lines.
_BARE_DATE = re.compile(rb'"occurred_at"\s*:\s*"[0-9]{4}-[0-9]{2}-[0-9]{2}"')


class _Exact(BaseModel):
    """EventIn's fields, config and "after" validator, without its "before" one (schemas.dated), which makes
    pydantic build the whole line as Python objects before validating them. That validator changes a body only
    when occurred_at is a bare date, which this model refuses (a date without a time zone is not an aware
    datetime): what it accepts, EventIn accepts the same way."""
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _at_precision(self):
        if self.date_precision != "exact":  # as schemas.Dated._at_precision
            self.occurred_at = to_precision(self.occurred_at, self.date_precision)
        return self


def _variant(name: str, model: type, base: type[BaseModel]) -> type[BaseModel]:
    # EventIn's fields with `type` fixed and `data` typed; the case's reference is read beside it and checked by
    # the caller. An absent `data` is validated as {} (validate_default), as check_event validates EventIn's default.
    fields: dict[str, Any] = {} if base is EventIn else {k: (f.annotation, f) for k, f in EventIn.model_fields.items()}
    fields.update(type=(Literal[name], ...), data=(model, Field(default_factory=dict, validate_default=True)),
                  case_ref=(Any, ABSENT), case_id=(Any, ABSENT))
    return create_model(f"Import{name}{base.__name__}", __base__=base, **fields)


def _adapter(base: type[BaseModel]) -> TypeAdapter:
    variants = [_variant(k.name, k.model, base) for k in EVENT_TYPES.values()
                if not k.system_only and k.name not in _SKIPPED]
    event = Annotated[Union[tuple(variants)], Field(discriminator="type")]
    line = create_model(f"ImportEventLine{base.__name__}", __config__={"extra": "forbid"}, event=(event, ...))
    return TypeAdapter(line)


_LINE: Optional[TypeAdapter] = None  # bodies as EventIn reads them (with bare dates)
_EXACT_LINE: Optional[TypeAdapter] = None  # the same without the bare-date reading: most lines, in one pass


def fast_event(raw: bytes, now: datetime) -> tuple[Any, Any, EventIn, NewEvent] | None:
    """(case_ref or ABSENT, case_id or ABSENT, the body, the validated event) of an event line the API path would
    accept as it is; None for anything else (the caller then takes that path)."""
    global _LINE, _EXACT_LINE
    if _LINE is None:  # built on first use: a command that imports nothing does not pay for them
        _LINE, _EXACT_LINE = _adapter(EventIn), _adapter(_Exact)
    try:
        body = (_LINE if _BARE_DATE.search(raw) else _EXACT_LINE).validate_json(raw).event
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

