"""Reminder tests' helpers: a clock the test moves by hand from NOW, cases in a zone, reminder rows and ticks."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from events.clock import ManualClock
from notifications.tables import reminders

from .delivery import drain

NOW = datetime(2027, 3, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return ManualClock(NOW)


def subscribe(client, receiver, path="/hook", **extra) -> dict:
    response = client.post("/v1/subscriptions", json={"name": "desk", "channel": {"kind": "webhook",
                                                      "url": receiver.url(path)}, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def open_case(client, tz="Europe/Paris") -> str:
    response = client.post("/v1/cases", json={"person": {"name": "Reminder Person"}, "country": "FR",
                                              "origin_country": "UZ", "timezone": tz})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def append(client, case_id, type_, data=None, occurred_at=None) -> dict:
    response = client.post(f"/v1/cases/{case_id}/events", json={
        "type": type_, "occurred_at": occurred_at or NOW.isoformat(), "data": data or {}})
    assert response.status_code == 201, response.text
    return response.json()


def rows(box, case_id=None, kind=None) -> list:
    """Reminder rows, oldest due first; the outcome watches (tested in test_passed_dates.py) only when asked."""
    query = select(reminders).order_by(reminders.c.due_at)
    query = query.where(reminders.c.kind == kind) if kind else query.where(reminders.c.kind != "outcome_overdue")
    if case_id:
        query = query.where(reminders.c.case_id == case_id)
    with box.engine.connect() as conn:
        return conn.execute(query).all()


def tick_at(box, clock, moment) -> dict:
    clock.set(moment)
    result = box.ticker.tick()
    drain(box)
    return result


def reminder_bodies(receiver, path="/hook") -> list[dict]:
    bodies = [json.loads(r.body)["data"] for r in receiver.at(path)]
    return [b for b in bodies if b["rule"].startswith(("reminder.", "contact."))]
