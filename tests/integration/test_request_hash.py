"""The request hash that tells a reused Idempotency-Key from a retry is made only for requests that carry one."""
from __future__ import annotations

import pytest

import service.cases

NOTE = {"type": "NoteAdded", "occurred_at": "2026-01-01T00:00:00Z", "data": {"text": "x"}}


@pytest.fixture
def case_id(client):
    return client.post("/v1/cases", json={"person": {"name": "Hash Person"}, "country": "FR"}).json()["id"]


def test_only_an_idempotent_append_hashes_what_it_asked_for(client, case_id, monkeypatch):
    def refuse(*args):
        raise AssertionError("hashed a request without an Idempotency-Key")
    monkeypatch.setattr(service.cases, "request_hash", refuse)
    assert client.post(f"/v1/cases/{case_id}/events", json=NOTE).status_code == 201
    monkeypatch.undo()
    path, key = f"/v1/cases/{case_id}/events", {"Idempotency-Key": "asked-1"}
    assert client.post(path, json=NOTE, headers=key).status_code == 201
    reused = client.post(path, json=NOTE | {"data": {"text": "another"}}, headers=key)
    assert reused.status_code == 422 and reused.json()["detail"][0]["type"] == "idempotency_key_reused"
