"""Case API helpers: a person, a case opened for them, and an append whose answer the test checks itself."""
from __future__ import annotations

PERSON = {"name": "Test Person Alpha", "aliases": ["T. Alpha"], "birth_year": 1980, "nationality": "UZ"}


def open_case(client, **extra) -> str:
    body = {"person": PERSON, "country": "FR", "origin_country": "UZ", "tags": ["france"], **extra}
    response = client.post("/v1/cases", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def append(client, case_id, type_, data=None, occurred_at="2023-11-01T10:00:00Z", headers=None, **extra):
    return client.post(f"/v1/cases/{case_id}/events", headers=headers or {},
                       json={"type": type_, "occurred_at": occurred_at, "data": data or {}, **extra})
