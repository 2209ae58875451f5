"""Stored event data is read as its catalogue model, typed, and never refused for a limit only input is held to."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from events import catalogue
from events.catalogue import read_data


def test_stored_data_is_typed_as_its_catalogue_model():
    target = uuid.uuid4()
    read = read_data("HearingPostponed", 1, json.dumps({"hearing_event_id": str(target),
                                                        "new_at": "2026-03-01T10:00:00+05:00"}))
    assert isinstance(read, catalogue.HearingPostponed)
    assert read.hearing_event_id == target and read.new_at == datetime(2026, 3, 1, 5, tzinfo=timezone.utc)


def test_what_was_stored_is_read_even_past_the_limits_input_is_held_to():
    # The opener's team is added to up to 50 named ones, and a key's team name follows no pattern.
    teams = ["Paris team"] + [f"t{i}" for i in range(50)]
    read = read_data("CaseOpened", 1, json.dumps({"person": "v1.sealed", "country": "FR", "teams": teams}))
    assert isinstance(read, catalogue.CaseOpened) and read.person == "v1.sealed" and read.teams == teams
    assert read_data("Sentenced", 1, json.dumps({"term": "x" * 400})).term == "x" * 400
