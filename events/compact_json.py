"""Compact JSON text, byte for byte as `json.dumps(value, separators=(",", ":"), ensure_ascii=False[, sort_keys=True])`
writes it, from C encoders made once: `json.dumps` builds a new encoder on every call, which a bulk load pays twice an
event (its data and its canonical form)."""
from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring
from typing import Any, Callable


def _not_serializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encoder(sort_keys: bool) -> Callable[[Any], str]:
    if c_make_encoder is None:  # an interpreter without the _json accelerator
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys).encode
    # No circular-reference check (markers None): what is encoded here was decoded from JSON or built by a model dump.
    chunks = c_make_encoder(None, _not_serializable, encode_basestring, None, ":", ",", sort_keys, False, True)
    return lambda value: "".join(chunks(value, 0))


compact = _encoder(sort_keys=False)  # lists and objects in their own order: the canonical form of an event
compact_sorted = _encoder(sort_keys=True)  # object keys sorted: an event's data and source as stored
