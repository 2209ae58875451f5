"""Loads the demo cases from `seed_cases.json`: facts from public reports, each with the document it cites."""
from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from sqlalchemy import func, select

from events.store import NewEvent
from events.tables import case_projections

from .access import Principal
from .container import Container
from .schemas import CaseIn, EventIn

DEMO_ACTOR = Principal("demo-loader", "demo loader", "admin", "rapid-response")
DEMO_TEAMS = ["rapid-response"]


def seed_spec() -> dict[str, Any]:
    return json.loads(files("service").joinpath("seed_cases.json").read_text(encoding="utf-8"))


def citation(source: dict[str, Any]) -> str:
    """One line naming a source as a reader would cite it: publisher, title, date."""
    return f"{source['publisher']}, “{source['title']}”, {source['date']}"


def person_of(spec: dict[str, Any]) -> dict[str, Any]:
    return {field: spec[field] for field in ("name", "aliases", "birth_year", "nationality") if spec.get(field)}


def load_demo(box: Container) -> int:
    """Load every seed case into an empty database; returns how many were loaded (0 if cases already exist)."""
    with box.engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(case_projections)).scalar_one():
            return 0
    spec = seed_spec()
    for case in spec["cases"]:
        _load_case(box, spec["sources"], case)
    return len(spec["cases"])


def _load_case(box: Container, sources: dict[str, dict[str, Any]], case: dict[str, Any]) -> None:
    events = case["events"]
    docs = sorted({e["doc"] for e in events} | {case["person"]["doc"]})
    first = events[0] if events else None
    body = CaseIn(person=person_of(case["person"]), country=case["country"],
                  origin_country=case.get("origin_country"), tags=case.get("tags", []), teams=DEMO_TEAMS,
                  summary=case.get("summary"),
                  occurred_at=first["occurred_at"] if first else None,
                  date_precision=first["date_precision"] if first else "exact")
    # A bulk load of history pages nobody: quiet appends fold and plan reminders still ahead, but raise no alert.
    opened = box.cases.open_case(DEMO_ACTOR, body, actor="system:demo", quiet=True)
    now = box.clock.now()
    batch: list[NewEvent] = []
    for doc in docs:
        source = sources[doc]
        data = {"title": citation(source), "document": doc, "sha256": source["sha256"]}
        if source.get("url"):
            data["url"] = source["url"]
        batch.append(NewEvent("SourceAttached", now, data, "exact"))
    for event in events:
        source = sources[event["doc"]]
        cited = {"title": citation(source), **({"url": source["url"]} if source.get("url") else {})}
        batch.append(box.cases.prepare(opened.stream_id, EventIn(
            type=event["type"], occurred_at=event["occurred_at"], date_precision=event["date_precision"],
            data=event.get("data", {}), source=cited)))
    box.store.append(opened.stream_id, batch, actor="system:demo", expected_version=opened.version, quiet=True)
