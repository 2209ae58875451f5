"""Delivery tests' helpers: a clock at the real now, webhook subscriptions, cases, appends, and draining the worker."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest

from events.clock import ManualClock


@pytest.fixture
def clock():
    # Standard Webhooks receivers check the timestamp against their own clock: start at the real now.
    return ManualClock(datetime.now(timezone.utc), tick=timedelta(milliseconds=1))


def drain(box) -> int:
    async def once() -> int:
        try:
            return await box.worker.run_once()
        finally:
            await box.worker.aclose()
    return asyncio.run(once())


def subscribe(client, url, everything=False, **extra) -> dict:
    """A webhook subscription; unless told otherwise it hears only of removals, to keep counts simple."""
    if not everything:
        extra.setdefault("filter", {"event_types": ["Removed"]})
    response = client.post("/v1/subscriptions", json={"name": "team", "channel": {"kind": "webhook", "url": url},
                                                      **extra})
    assert response.status_code == 201, response.text
    return response.json()


def open_case(client, **extra) -> str:
    return client.post("/v1/cases", json={"person": {"name": "Delivery Person"}, "country": "FR",
                                          "origin_country": "UZ", **extra}).json()["id"]


def append(client, case_id, type_, data=None, occurred_at=None):
    """Dated now unless told otherwise (an old removal would also bring contact-overdue alerts)."""
    occurred_at = occurred_at or datetime.now(timezone.utc).isoformat()
    response = client.post(f"/v1/cases/{case_id}/events", json={"type": type_, "occurred_at": occurred_at,
                                                               "data": data or {}})
    assert response.status_code == 201, response.text
    return response.json()


REMOVED = {"method": "deported", "destination": "UZ"}


def deliveries(client, **params) -> list[dict]:
    return client.get("/v1/deliveries", params=params).json()["items"]


def wait_for(condition, timeout: float = 60.0) -> None:
    """Waits on other processes (not on a clock the test could move)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the workers")
        time.sleep(0.1)
