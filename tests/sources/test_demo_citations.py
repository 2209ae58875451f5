"""The demo's facts against the public documents they cite: run only where those documents are at hand.

Set VIGIL_SEEDS_DIR to the folder holding them (CI points it at the copy beside the repository). Without it these
tests are skipped; nothing else needs the documents.
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from service.demo import seed_spec

SEEDS = Path(os.environ["VIGIL_SEEDS_DIR"]) if os.environ.get("VIGIL_SEEDS_DIR") else None
pytestmark = pytest.mark.skipif(SEEDS is None or not SEEDS.is_dir(),
                                reason="VIGIL_SEEDS_DIR does not name the folder of source documents")
COPY_RUN = 8  # this many words in a row shared with a document count as copied text
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def document(doc: str) -> str:
    return unicodedata.normalize("NFC", (SEEDS / doc).read_text(encoding="utf-8"))


def date_spellings(day: date, precision: str) -> list[str]:
    """The ways a document may write a date of this precision (English prose, or dd.mm.yy headings)."""
    month = MONTHS[day.month - 1]
    if precision == "year":
        return [str(day.year)]
    if precision == "month":
        return [f"{month} {day.year}", f"{month} of {day.year}", f"{month}, {day.year}"]
    return [f"{month} {day.day}, {day.year}", f"{day.day} {month} {day.year}", f"{day:%d.%m.%y}",
            f"{day:%d.%m.%Y}", f"{day.day}-{day.day + 1} {month} {day.year}"]


def found_in(text: str, day: date, precision: str) -> bool:
    if any(spelling in text for spelling in date_spellings(day, precision)):
        return True
    # Prose often gives the year once and then "on 27 September" or "June 9": accept that when the year is there.
    month = MONTHS[day.month - 1]
    if precision == "day" and str(day.year) in text:
        return re.search(rf"\b({month} {day.day}\b|{day.day} {month}\b)", text) is not None
    if precision == "month" and str(day.year) in text:
        return re.search(rf"\b{month}\b", text) is not None
    return False


def test_every_source_is_the_document_it_names():
    for doc, source in seed_spec()["sources"].items():
        assert hashlib.sha256((SEEDS / doc).read_bytes()).hexdigest() == source["sha256"], doc
        text = document(doc)
        assert re.split(r" \(|,", source["publisher"])[0] in text, doc
        precision = {10: "day", 7: "month", 4: "year"}[len(source["date"])]
        assert found_in(text, date.fromisoformat((source["date"] + "-01-01")[:10]), precision), doc


def test_every_name_alias_and_birth_year_is_spelled_as_its_document_spells_it():
    for case in seed_spec()["cases"]:
        person = case["person"]
        text = document(person["doc"])
        for name in [person["name"], *person.get("aliases", [])]:
            assert name in text, f"{case['key']}: {name!r} is not in {person['doc']}"
        if "birth_year" in person:
            assert re.search(rf"{re.escape(person['name'])}\s*\((b\.\s*)?{person['birth_year']}[,)]", text), case["key"]


def test_every_event_date_is_found_in_its_cited_document():
    """A date a document gives is written there; a date it does not give is the document's own date or a bound
    that its note explains ("Date not given ...")."""
    spec = seed_spec()
    missing = []
    for case in spec["cases"]:
        for event in case["events"]:
            day = date.fromisoformat(event["occurred_at"][:10])
            note = " ".join(str(v) for v in event["data"].values())
            stated = found_in(document(event["doc"]), day, event["date_precision"])
            own_date = spec["sources"][event["doc"]]["date"].startswith(event["occurred_at"][:7])
            if not stated and not (own_date or "not given" in note.lower()):
                missing.append(f"{case['key']} {event['type']} {event['occurred_at'][:10]} {event['doc']}")
    assert not missing, missing
def words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower().replace("’", "'"))


def test_no_text_copies_a_run_of_words_from_the_documents():
    spec = seed_spec()
    runs = set()
    for doc in spec["sources"]:
        w = words(document(doc))
        runs |= {tuple(w[i:i + COPY_RUN]) for i in range(len(w) - COPY_RUN + 1)}
    copied = []
    for case in spec["cases"]:
        texts = [case.get("summary", "")] + [v for e in case["events"] for v in e["data"].values() if isinstance(v, str)]
        for text in texts:
            w = words(text)
            if any(tuple(w[i:i + COPY_RUN]) in runs for i in range(len(w) - COPY_RUN + 1)):
                copied.append(f"{case['key']}: {text[:80]}")
    assert not copied, copied
