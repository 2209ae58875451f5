"""Loads the demo cases: facts from `seed_cases.json`, names read from the seed documents themselves.

The repository holds no personal data: each name is a locator (document, offset, length, sha256) into a
seed document, resolved and checked at load time.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from events.store import NewEvent
from events.tables import case_projections

from .access import Principal
from .schemas import CaseIn, EventIn
from .container import Container

DEMO_ACTOR = Principal("demo-loader", "demo loader", "admin", "rapid-response")
DEMO_TEAMS = ["rapid-response"]


class SeedError(RuntimeError):
    pass


def seed_spec() -> dict[str, Any]:
    return json.loads(files("service").joinpath("seed_cases.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=16)
def _document(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def resolve(seeds_dir: Path, locator: dict[str, Any]) -> str:
    """The exact text a locator points at, checked against its hash."""
    path = seeds_dir / locator["doc"]
    if not path.exists():
        raise SeedError(f"seed document {path} not found (set VIGIL_SEEDS_DIR)")
    text = _document(path)[locator["offset"]:locator["offset"] + locator["length"]]
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != locator["sha256"]:
        raise SeedError(f"locator into {locator['doc']} at {locator['offset']} no longer matches the document")
    return text


NOT_A_TITLE = re.compile(r"^(\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|skip to .*|donate.*|menu|search)$", re.IGNORECASE)


def document_title(seeds_dir: Path, doc: str) -> str:
    """The title seed_cases.json gives a document (where the document's own heading is a bare date or names a
    third person), else its first line that reads as a title (not a bare date or page furniture)."""
    if doc in seed_spec().get("document_titles", {}):
        return seed_spec()["document_titles"][doc]
    lines = [line.split(" | ")[0].strip() for line in _document(seeds_dir / doc).splitlines() if line.strip()]
    return next((line for line in lines if not NOT_A_TITLE.match(line)), lines[0])[:200]


def person_of(seeds_dir: Path, spec: dict[str, Any]) -> dict[str, Any]:
    person: dict[str, Any] = {"name": resolve(seeds_dir, spec["name"])}
    if spec.get("aliases"):
        person["aliases"] = [resolve(seeds_dir, a) for a in spec["aliases"]]
    if spec.get("birth_year"):
        person["birth_year"] = int(resolve(seeds_dir, spec["birth_year"]))
    if spec.get("nationality"):
        person["nationality"] = spec["nationality"]
    return person


def load_demo(box: Container, seeds_dir: Path) -> int:
    """Load every seed case into an empty database; returns how many were loaded (0 if cases already exist)."""
    with box.engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(case_projections)).scalar_one():
            return 0
    spec = seed_spec()
    seeds_dir = seeds_dir.resolve()
    for case in spec["cases"]:
        _load_case(box, seeds_dir, case)
    return len(spec["cases"])


def _load_case(box: Container, seeds_dir: Path, case: dict[str, Any]) -> None:
    events = case["events"]
    docs = sorted({e["doc"] for e in events} | set(case.get("docs", [])))
    first = events[0] if events else None
    body = CaseIn(person=person_of(seeds_dir, case["person"]), country=case["country"],
                  origin_country=case.get("origin_country"), tags=case.get("tags", []), teams=DEMO_TEAMS,
                  summary=case.get("summary"),
                  occurred_at=first["occurred_at"] if first else None,
                  date_precision=first["date_precision"] if first else "exact")
    opened = box.cases.open_case(DEMO_ACTOR, body, actor="system:demo")
    case_id = opened.stream_id
    now = box.clock.now()
    batch: list[NewEvent] = []
    for doc in docs:
        sha = hashlib.sha256((seeds_dir / doc).read_bytes()).hexdigest()
        batch.append(NewEvent("SourceAttached", now, {"title": document_title(seeds_dir, doc), "document": doc,
                                                      "sha256": sha}, "exact"))
    for event in events:
        source = {"title": document_title(seeds_dir, event["doc"])}
        batch.append(box.cases.prepare(case_id, EventIn(
            type=event["type"], occurred_at=event["occurred_at"], date_precision=event["date_precision"],
            data=event.get("data", {}), source=source)))
    box.store.append(case_id, batch, actor="system:demo", expected_version=opened.version)
