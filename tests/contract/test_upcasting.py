"""Data stored under an older schema version is read through its upcaster: by the store, the fold and the rebuild."""
from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from events import catalogue
from events.case_projections import CaseProjections, rebuild
from events.projection import fold
from events.store import EventStore, NewEvent

T0 = datetime(2023, 11, 1, tzinfo=timezone.utc)


class ReleasedV2(catalogue.Released):
    """A made-up version 2 of Released, where the conditions must be given (version 1 data may lack them)."""
    conditions: catalogue.ShortText


@pytest.fixture
def store(engine, clock):
    return EventStore(engine, clock, projection=CaseProjections())


def test_an_event_stored_under_an_older_schema_version_is_read_through_its_upcaster(store, engine, monkeypatch):
    case_id = str(uuid.uuid4())
    store.append(case_id, [NewEvent("CaseOpened", T0, {"person": "v1.sealed", "country": "FR", "teams": ["t"]}),
                           NewEvent("Detained", T0 + timedelta(days=1), {"place": "Vincennes"}),
                           NewEvent("Released", T0 + timedelta(days=2), {})], actor="a", new_stream=True)

    monkeypatch.setitem(catalogue.EVENT_TYPES, "Released", dataclasses.replace(
        catalogue.EVENT_TYPES["Released"], model=ReleasedV2, stored=catalogue.stored_model(ReleasedV2),
        schema_version=2))
    monkeypatch.setitem(catalogue.UPCASTERS, ("Released", 1), lambda data: {**data, "conditions": "not recorded"})
    store.append(case_id, [NewEvent("Detained", T0 + timedelta(days=3), {}),
                           NewEvent("Released", T0 + timedelta(days=4), {"conditions": "bail"})], actor="a")

    old, new = [e for e in store.read_stream(case_id) if e.type == "Released"]
    assert (old.schema_version, new.schema_version) == (1, 2)
    assert old.data_text == "{}"  # the stored text, which the hash covers, is never rewritten
    assert old.data == {"conditions": "not recorded"} and new.data == {"conditions": "bail"}
    typed = old.typed_data()
    assert isinstance(typed, ReleasedV2) and typed.conditions == "not recorded"
    assert store.verify(case_id).ok

    # Without the upcaster, version 1 data fails ReleasedV2 (conditions missing): these reads go through it.
    assert fold(store.read_stream(case_id)).detained is False
    assert rebuild(engine) == 5
    with engine.connect() as conn:
        row = CaseProjections.get(conn, case_id)
    assert row is not None and row.state.detained is False and row.version == 5
