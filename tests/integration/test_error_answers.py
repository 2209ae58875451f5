"""Each refusal names what it refuses: the API's JSON says what was not found, the dashboard's page says it in words."""
from __future__ import annotations

import pytest

CASE = {"person": {"name": "Error Person"}, "country": "TR", "occurred_at": "2026-01-01T00:00:00Z"}


@pytest.fixture
def delivery_id(client) -> str:
    """A delivery that is not dead (its receiver's port is closed; the worker does not run in tests)."""
    created = client.post("/v1/subscriptions", json={"name": "closed",
                                                     "channel": {"kind": "webhook", "url": "http://127.0.0.1:9/x"}})
    assert created.status_code == 201, created.text
    case_id = client.post("/v1/cases", json=CASE).json()["id"]
    detained = client.post(f"/v1/cases/{case_id}/events",
                           json={"type": "Detained", "occurred_at": "2026-03-01T00:00:00Z", "data": {}})
    assert detained.status_code == 201, detained.text
    items = client.get("/v1/deliveries").json()["items"]
    assert items and items[0]["state"] != "dead"
    return items[0]["id"]


@pytest.mark.parametrize("method, path, said", [
    ("GET", "/v1/subscriptions/nope", "subscription not found"),
    ("DELETE", "/v1/subscriptions/nope", "subscription not found"),
    ("POST", "/v1/subscriptions/nope/test", "subscription not found"),
    ("GET", "/v1/deliveries/nope", "delivery not found"),
    ("POST", "/v1/deliveries/nope/retry", "delivery not found"),
    ("POST", "/v1/alerts/nope/ack", "alert not found"),
    ("GET", "/v1/cases/nope", "case not found"),
    ("GET", "/v1/cases/nope/status", "case not found"),
    ("POST", "/v1/cases/nope/erase", "case not found"),
])
def test_the_api_says_what_was_not_found(client, method, path, said):
    answer = client.request(method, path)
    assert answer.status_code == 404 and answer.json() == {"detail": said}


def test_a_bulk_acknowledgement_names_the_ids_it_refused(client):
    answer = client.post("/v1/alerts/ack", json={"ids": ["a", "b", "a"]})
    assert answer.status_code == 404 and answer.json() == {"detail": "alert not found: a, b"}


def test_conflicts_say_which_state_is_needed(client, delivery_id):
    retried = client.post(f"/v1/deliveries/{delivery_id}/retry")
    assert retried.status_code == 409 and retried.json() == {"detail": "only a dead delivery can be retried"}
    case_id = client.post("/v1/cases", json=CASE).json()["id"]
    assert client.post(f"/v1/cases/{case_id}/erase").status_code == 200
    again = client.post(f"/v1/cases/{case_id}/erase")
    assert again.status_code == 409 and again.json() == {"detail": "personal data of this case was already erased"}


def test_a_regular_users_forbidden_subscription_says_why(client, box):
    from service.keys import KeyService

    editor = KeyService(box.engine, box.clock).create("editor", "lyon", "lyon editor")
    answer = client.post("/v1/subscriptions", headers={"Authorization": f"Bearer {editor}"},
                         json={"name": "n", "include_personal_data": True,
                               "channel": {"kind": "webhook", "url": "http://127.0.0.1:9/x"}})
    assert answer.status_code == 403 and answer.json() == {"detail": "only an admin may turn on include_personal_data"}


@pytest.mark.parametrize("method, path, shown", [
    ("GET", "/subscriptions/nope", "No such subscription, or it belongs to another team."),
    ("POST", "/subscriptions/nope/test", "No such subscription, or it belongs to another team."),
    ("POST", "/subscriptions/nope/delete", "No such subscription, or it belongs to another team."),
    ("POST", "/deliveries/nope/retry", "No such delivery, or it belongs to another team."),
    ("POST", "/alerts/nope/ack", "No such alert, or your team may not see it."),
    ("GET", "/cases/nope", "No such case, or your team may not see it."),
    ("GET", "/cases/nope/dossier", "No such case, or your team may not see it."),
    ("POST", "/cases/nope/events", "No such case, or your team may not see it."),
])
def test_the_dashboard_shows_a_page_saying_what_was_not_found(client, method, path, shown):
    # The admin's bearer key signs these requests in: no session, so no CSRF token is needed.
    data = {"type": "NoteAdded", "occurred_at": "2026-01-01T00:00", "text": "x"} if path.endswith("/events") else {}
    answer = client.request(method, path, data=data)
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert shown in answer.text and "not found" not in answer.text


def test_the_dashboard_shows_a_conflict_as_a_page(client, delivery_id):
    answer = client.post(f"/deliveries/{delivery_id}/retry", data={})
    assert answer.status_code == 409 and answer.headers["content-type"].startswith("text/html")
    assert "only a dead delivery can be retried" in answer.text
