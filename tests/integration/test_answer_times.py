"""Every answer gives its times in one form: UTC RFC 3339 ending in Z (events/utc.py `iso`)."""
from __future__ import annotations

import re
from datetime import timedelta, timezone

from events.utc import iso

Z_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_keys_subscriptions_and_case_times_are_answered_in_one_form(client, box):
    box.keys.create("editor", "t", "timed")
    assert all(Z_TIME.match(k["created_at"]) for k in box.keys.list())
    created = client.post("/v1/subscriptions", json={"name": "z", "channel": {"kind": "webhook",
                                                                              "url": "http://127.0.0.1:9/h"}})
    assert created.status_code == 201, created.text
    assert Z_TIME.match(created.json()["created_at"])
    case_id = client.post("/v1/cases", json={"person": {"name": "Timed Person"}, "country": "FR"}).json()["id"]
    as_of = box.clock.now()
    status = client.get(f"/v1/cases/{case_id}/status",
                        params={"as_of": as_of.astimezone(timezone(timedelta(hours=2))).isoformat()})
    assert status.status_code == 200, status.text
    assert status.json()["as_of"] == iso(as_of) and Z_TIME.match(status.json()["as_of"])
