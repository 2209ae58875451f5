"""The demo data: every seed case loads from the repository alone, verifies, and tells the documented story."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.access import SYSTEM
from service.cases import CaseFilters
from service.demo import load_demo, seed_spec


@pytest.fixture
def db_url(sqlite_url):
    """Demo loading does not depend on the database; it is checked on SQLite."""
    return sqlite_url


def test_every_fact_names_a_source_with_its_citation():
    spec = seed_spec()
    for doc, source in spec["sources"].items():
        assert source["publisher"] and source["title"] and source["date"][:4].isdigit() and len(source["sha256"]) == 64
    for case in spec["cases"]:
        assert case["person"]["name"].strip() and case["person"]["doc"] in spec["sources"]
        assert case["events"] and all(event["doc"] in spec["sources"] for event in case["events"])


def test_demo_loads_verifies_and_tells_the_akhmedov_story(box):
    loaded = load_demo(box)
    assert loaded == len(seed_spec()["cases"]) >= 40
    assert load_demo(box) == 0  # a second run loads nothing twice
    cases, _ = box.cases.list(SYSTEM, CaseFilters(), limit=500)
    assert len(cases) == loaded
    for case in cases:
        assert box.store.verify(case["id"]).ok
    matches, _ = box.cases.list(SYSTEM, CaseFilters(q="akhmedov"))
    assert len(matches) == 1
    akhmedov = matches[0]
    assert akhmedov["status"] == "removed" and akhmedov["country"] == "FR"
    assert any("despite ECtHR interim measure" in r for r in akhmedov["risk"]["reasons"])
    history = box.cases.events(SYSTEM, akhmedov["id"])
    sources = [e for e in history if e["type"] == "SourceAttached"]
    assert sources and all(len(e["data"]["sha256"]) == 64 for e in sources)
    assert "Association for Human Rights in Central Asia" in sources[0]["data"]["title"]
    assert all("2023-12-20" in e["source"]["title"] for e in history if e["type"] == "Removed")
    removed = next(e for e in history if e["type"] == "Removed")
    assert removed["occurred_at"].startswith("2023-11-15") and removed["data"]["method"] == "deported"


def test_the_32_detainees_carry_no_invented_individual_removal(box):
    load_demo(box)
    group, _ = box.cases.list(SYSTEM, CaseFilters(tag="kazakhstan-32"), limit=500)
    assert len(group) == 32
    for case in group:
        types = {e["type"] for e in box.cases.events(SYSTEM, case["id"])}
        assert "Removed" not in types


def test_no_demo_name_is_stored_in_plain_text(box, db_url):
    """Names live only in the sealed person data: not in notes, titles or summaries the demo copies from the
    documents. Checked on the database file's bytes (SQLite), with the write-ahead log folded in."""
    load_demo(box)
    box.engine.dispose()
    raw = b"".join(p.read_bytes() for p in Path(db_url.removeprefix("sqlite:///")).parent.glob("vigil.db*"))
    for case in seed_spec()["cases"]:
        for name in [case["person"]["name"], *case["person"].get("aliases", [])]:
            for needle in {name, name.upper(), name.split()[-1]} if len(name.split()[-1]) > 3 else {name}:
                assert needle.encode() not in raw, f"a demo name is stored in plain text ({case['key']})"
    assert b"Kokand" in raw  # the readable parts of the history are in these bytes
