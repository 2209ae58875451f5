"""The live feed's read of recently changed alerts: each alert raised, acknowledged or withdrawn since a time, once,
found through an index on every one of those times (never a scan of every alert), on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, text

from events.tables import case_projections
from notifications.tables import alerts
from service.live import ALERTS_SINCE, Changes

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
SINCE = NOW - timedelta(minutes=1)
LONG_AGO = NOW - timedelta(days=30)


def _alert(case_id: str, raised_at, acknowledged_at=None, withdrawn_at=None) -> dict:
    state = "withdrawn" if withdrawn_at else "acknowledged" if acknowledged_at else "open"
    return {"id": str(uuid.uuid4()), "rule": "removal", "severity": "critical", "state": state, "case_id": case_id,
            "event_id": None, "title": "Removed", "raised_at": raised_at, "due_at": None, "late": False,
            "dedupe_key": str(uuid.uuid4()), "acknowledged_at": acknowledged_at, "withdrawn_at": withdrawn_at}


def test_alerts_raised_acknowledged_or_withdrawn_since_are_each_told_once(engine):
    case_id, lost_case = str(uuid.uuid4()), str(uuid.uuid4())
    recent = SINCE + timedelta(seconds=5)
    told = {"raised": _alert(case_id, recent), "acknowledged": _alert(case_id, LONG_AGO, acknowledged_at=recent),
            "withdrawn": _alert(lost_case, LONG_AGO, withdrawn_at=recent),
            "raised and acknowledged": _alert(case_id, recent, acknowledged_at=recent + timedelta(seconds=1))}
    quiet = [_alert(case_id, LONG_AGO), _alert(case_id, LONG_AGO, acknowledged_at=LONG_AGO),
             _alert(case_id, LONG_AGO, withdrawn_at=SINCE)]  # exactly at `since`: before it, not after
    with engine.begin() as conn:
        conn.execute(insert(case_projections).values(
            case_id=case_id, version=1, status="open", tags="[]", teams=json.dumps(["lyon"]), state="{}",
            opened_at=LONG_AGO, updated_at=LONG_AGO))
        conn.execute(insert(alerts), [*told.values(), *quiet])
    found = Changes(engine).alerts_since(SINCE)
    assert sorted(found) == sorted((a["id"], a["state"], a["case_id"], ("lyon",) if a["case_id"] == case_id else ())
                                   for a in told.values())


def _plan(engine) -> list[str]:
    params = {"t": SINCE.replace(tzinfo=None) if engine.dialect.name == "sqlite" else SINCE}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return [row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + ALERTS_SINCE.text), params)]
        # A test table is small enough that a scan would be cheapest: refuse scans, so only a plan the indexes make
        # possible avoids one.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        return [row[0] for row in conn.execute(text("EXPLAIN " + ALERTS_SINCE.text), params)]


def test_the_read_searches_indexes_and_scans_no_alerts(engine):
    plan = _plan(engine)
    if engine.dialect.name == "sqlite":
        on_alerts = [line for line in plan if " alerts" in line or line.split()[1:2] == ["a"]]
        assert on_alerts and all(line.startswith("SEARCH") for line in on_alerts), plan
    else:
        assert not [line for line in plan if "Seq Scan on alerts" in line], plan
        assert any("Index" in line and "alerts" in line for line in plan), plan
