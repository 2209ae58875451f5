"""The case list in SQL: the stored place of each case (events.risk.list_place), written by each append that changes
the case and kept current as time passes by the scheduler tick, and a page read in that order, with the cases whose
place has lapsed assessed as they are read."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, text, update

from .transactions import writing
from .projection import CaseState
from .records import iso
from .risk import LEVELS, list_place, sorts_of
from .tables import case_projections as proj
from .timing import Timing

# A case appended to since it was read keeps its lapsed place (the version no longer matches).
PLACE = (update(proj).where(proj.c.case_id == bindparam("b_case_id"), proj.c.version == bindparam("b_version"))
         .values(list_sort=bindparam("b_sort"), list_next_at=bindparam("b_next_at"),
                 list_valid_until=bindparam("b_valid_until")))


def state_of(encoded: str) -> CaseState:
    return CaseState.from_dict(json.loads(encoded)["state"])


def place_lapsed(engine: Engine, now: datetime, timing: Timing | timedelta, batch: int = 500,
                 batches: int = 20) -> int:
    """Store the list place of cases whose place has lapsed (time moved on; or a rebuild or upgrade left it unset);
    at most batch x batches per call, so one tick stays short. Returns how many were placed."""
    placed = 0
    for _ in range(batches):
        lapsed = (select(proj.c.case_id, proj.c.version, proj.c.state).where(proj.c.list_valid_until <= iso(now))
                  .order_by(proj.c.list_valid_until).limit(batch))
        with engine.connect() as conn:
            rows = conn.execute(lapsed).all()
        if not rows:
            break
        updates = []
        for case_id, version, encoded in rows:
            place = list_place(state_of(encoded), now, timing)
            sort, next_at, _ = place.order(case_id)
            updates.append({"b_sort": sort, "b_next_at": next_at, "b_valid_until": place.valid_until,
                            "b_case_id": case_id, "b_version": version})
        with writing(engine) as conn:
            conn.execute(PLACE, updates)
        placed += len(updates)
        if len(rows) < batch:
            break
    return placed


@dataclass(frozen=True)
class ListFilter:
    status: str | None = None
    country: str | None = None  # matches the country of the case or of origin
    tag: str | None = None
    team: str | None = None  # None: every team's cases (an admin)
    risk: str | None = None


def _where(f: ListFilter, postgres: bool) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    if f.status:
        clauses.append("status = :status")
        params["status"] = f.status
    if f.country:
        clauses.append("(country = :country OR origin_country = :country)")
        params["country"] = f.country
    # Teams and tags are stored as JSON lists; an element is found by its quoted form, case-sensitively
    # (SQLite's LIKE ignores case, so it would let team "Alpha" see team "alpha"'s cases).
    find = "strpos" if postgres else "instr"
    if f.tag:
        clauses.append(f"{find}(tags, :tag) > 0")
        params["tag"] = json.dumps(f.tag)
    if f.team is not None:
        clauses.append(f"{find}(teams, :team) > 0")
        params["team"] = json.dumps(f.team)
    return "".join(f" AND {c}" for c in clauses), params


@dataclass(frozen=True)
class Listed:
    case_id: str
    version: int
    state: CaseState


def _rows(conn: Connection, sql: str, params: dict[str, Any], columns: tuple[str, ...]):
    return conn.execute(text(sql).columns(*(proj.c[name] for name in columns)), params)


def list_page(conn: Connection, f: ListFilter, now: datetime, timing: Timing | timedelta,
              offset: int, limit: int) -> tuple[list[Listed], bool]:
    """One page of cases, most urgent first, then the soonest next date, then case id; and whether more follow.

    Cases placed and still valid come in that order from the index; lapsed ones (changed since the last tick, or
    whose time has come) are assessed here, so the order is the one `now` gives even if the tick is late."""
    if f.risk and f.risk not in LEVELS:
        return [], False  # as an unknown status: no case has it
    postgres = conn.dialect.name == "postgresql"
    where, params = _where(f, postgres)
    params["now"] = iso(now)
    wanted = LEVELS.index(f.risk) if f.risk else None
    rank_clause = " AND list_sort IN (:old, :current)" if wanted is not None else ""
    # Written as SQL text (read by column name) for the one thing SQLAlchemy cannot say on SQLite: INDEXED BY.
    fresh = _rows(conn,
                  "SELECT list_sort, list_next_at, case_id, version, state FROM case_projections "
                  f"WHERE list_valid_until > :now{where}{rank_clause} ORDER BY list_sort, list_next_at, case_id "
                  "LIMIT :n",
                  {**params, **(dict(zip(("old", "current"), sorts_of(f.risk))) if f.risk else {}),
                   "n": offset + limit + 1},
                  ("list_sort", "list_next_at", "case_id", "version", "state"))
    ranked = [((r.list_sort, r.list_next_at, r.case_id), r.case_id, r.version, r.state) for r in fresh]
    # Lapsed cases are few; without statistics SQLite would rather walk every case of a status than them.
    lapsed_index = "" if postgres else " INDEXED BY ix_case_projections_list_valid_until"
    for r in _rows(conn, f"SELECT case_id, version, state FROM case_projections{lapsed_index} "
                         f"WHERE list_valid_until <= :now{where}", params, ("case_id", "version", "state")):
        place = list_place(state_of(r.state), now, timing)
        if wanted is None or place.rank == wanted:
            ranked.append((place.order(r.case_id), r.case_id, r.version, r.state))
    ranked.sort(key=lambda item: item[0])
    page = [Listed(case_id, version, state_of(encoded)) for _, case_id, version, encoded
            in ranked[offset:offset + limit]]
    return page, len(ranked) > offset + limit
