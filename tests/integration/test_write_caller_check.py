"""The hot write routes check their caller in the same worker-thread call as the write (service/api/deps.py
`deferred_writer`): every answer must still be the one the `writer` dependency gives, in the same order."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from events.tables import events
from service.keys import KeyService
from service.rate_limit import RateLimiter

NOTE = {"type": "NoteAdded", "occurred_at": "2026-01-01T00:00:00Z", "data": {"text": "x"}}
BAD_NOTE = {"type": "NoteAdded", "occurred_at": "not a time", "data": {}}
CASE = {"person": {"name": "Order Person"}, "country": "FR"}
BAD_CASE = {"person": {}, "country": "FRANCE"}


@pytest.fixture
def keys(client, box):
    service = KeyService(box.engine, box.clock)
    made = {role: service.create(role, "lyon", role) for role in ("editor", "viewer")}
    made["revoked"] = service.create("editor", "lyon", "gone")
    service.revoke(service.authenticate(made["revoked"]).key_id)
    return made


@pytest.fixture
def case_id(client, keys):
    return client.post("/v1/cases", json=CASE, headers={"Authorization": f"Bearer {keys['editor']}"}).json()["id"]


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar_one()


def _routes(case_id: str):
    return [(f"/v1/cases/{case_id}/events", NOTE, BAD_NOTE), ("/v1/cases", CASE, BAD_CASE)]


@pytest.mark.parametrize("who, status", [("none", 401), ("wrong", 401), ("revoked", 401), ("viewer", 403)])
def test_a_refused_caller_is_refused_before_its_body_is_judged(client, keys, case_id, engine, who, status):
    header = {"none": "", "wrong": "Bearer vgl_wrong"}[who] if who in ("none", "wrong") else f"Bearer {keys[who]}"
    before = _count(engine)
    for path, good, bad in _routes(case_id):
        for body in (good, bad):
            response = client.post(path, json=body, headers={"Authorization": header})
            assert response.status_code == status, (path, body, response.text)
            if status == 401:
                assert response.headers["www-authenticate"] == "Bearer"
    for path, _, _ in _routes(case_id):  # a header over its length is judged after the caller too
        response = client.post(path, json=NOTE, headers={"Authorization": header, "Idempotency-Key": "k" * 300})
        assert response.status_code == status
    assert _count(engine) == before


def test_a_known_writer_gets_the_validation_answer_or_the_write(client, keys, case_id):
    editor = {"Authorization": f"Bearer {keys['editor']}"}
    for path, good, bad in _routes(case_id):
        refused = client.post(path, json=bad, headers=editor)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][0] == "body"
        assert client.post(path, json=good, headers=editor).status_code == 201
    bad_if_match = client.post(f"/v1/cases/{case_id}/events", json=NOTE, headers={**editor, "If-Match": "x"})
    assert bad_if_match.status_code == 422 and bad_if_match.json()["detail"][0]["loc"] == ["header", "If-Match"]


def test_a_key_revoked_now_stops_writing_at_once(client, box, keys, case_id):
    editor = {"Authorization": f"Bearer {keys['editor']}"}
    assert client.post(f"/v1/cases/{case_id}/events", json=NOTE, headers=editor).status_code == 201
    service = KeyService(box.engine, box.clock)  # as another process would: nothing of this app's is told
    service.revoke(service.authenticate(keys["editor"]).key_id)
    assert client.post(f"/v1/cases/{case_id}/events", json=NOTE, headers=editor).status_code == 401
    assert client.post(f"/v1/cases/{case_id}/events", json=BAD_NOTE, headers=editor).status_code == 401


def test_the_rate_limit_comes_before_the_body_and_counts_each_request_once(client, box, keys, case_id):
    box.rate_limiter = RateLimiter(2, now=lambda: 0.0)
    editor = {"Authorization": f"Bearer {keys['editor']}"}
    path = f"/v1/cases/{case_id}/events"
    assert client.post(path, json=BAD_NOTE, headers=editor).status_code == 422  # one token
    assert client.post(path, json=NOTE, headers=editor).status_code == 201  # the second
    for body in (NOTE, BAD_NOTE):
        limited = client.post(path, json=body, headers=editor)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "30"


def test_the_cases_teams_read_with_the_key_decide_the_append_as_the_access_check_did(client, box, keys, case_id,
                                                                                       engine):
    """The append reads its key and its case's teams in one statement (KeyService.authenticate_for_case): another
    team's editor and an unknown case get the 404 the access check gives, an admin of another team writes."""
    service = KeyService(box.engine, box.clock)
    other = {"Authorization": f"Bearer {service.create('editor', 'paris', 'other team')}"}
    admin = {"Authorization": f"Bearer {service.create('admin', 'paris', 'admin elsewhere')}"}
    editor = {"Authorization": f"Bearer {keys['editor']}"}
    before = _count(engine)
    hidden = client.post(f"/v1/cases/{case_id}/events", json=NOTE, headers=other)
    missing = client.post("/v1/cases/no-such-case/events", json=NOTE, headers=editor)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"].replace("no-such-case", case_id)
    assert _count(engine) == before
    assert client.post(f"/v1/cases/{case_id}/events", json=NOTE, headers=admin).status_code == 201
    assert client.post(f"/v1/cases/{case_id}/events", json=NOTE, headers=editor).status_code == 201
    assert service.authenticate_for_case("vgl_wrong", case_id) == (None, None)  # no teams without a key
    assert service.authenticate_for_case(keys["revoked"], case_id) == (None, None)
