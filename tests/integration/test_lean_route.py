"""The append's fast lane (service/api/lean_route.py) answers a valid request with the bytes its FastAPI route
gives, and hands every other request to the route, which answers it as before."""
from __future__ import annotations

import pytest
from fastapi import APIRouter

from service.api.lean_route import LeanRoute, add_lean_route
from service.schemas import AppendOut, EventIn

NOTE = {"type": "NoteAdded", "occurred_at": "2026-01-01T00:00:00Z", "data": {"text": "x"}}
# FastAPI takes this content type as JSON; the lane leaves it to the route.
ROUTE_ONLY = {"Content-Type": "application/json; charset=utf-8"}


@pytest.fixture
def taken(client, monkeypatch):
    """Counts the requests the lane answered itself and those it handed to its route."""
    lane = next(route for route in client.app.router.routes if isinstance(route, LeanRoute))
    counts = {"lane": 0, "route": 0}
    handle_route, send = lane.route.handle, lane._send

    async def counted_route(*args):
        counts["route"] += 1
        await handle_route(*args)

    async def counted_send(*args):
        counts["lane"] += 1
        await send(*args)
    monkeypatch.setattr(lane.route, "handle", counted_route)
    monkeypatch.setattr(lane, "_send", counted_send)
    return counts


@pytest.fixture
def case_id(client):
    return client.post("/v1/cases", json={"person": {"name": "Lane Person"}, "country": "FR"}).json()["id"]


def test_the_lane_and_the_route_give_the_same_bytes(client, case_id, taken):
    path, key = f"/v1/cases/{case_id}/events", {"Idempotency-Key": "lane-1"}
    first = client.post(path, json=NOTE, headers=key)
    assert (first.status_code, taken) == (201, {"lane": 1, "route": 0})
    assert "idempotent-replayed" not in first.headers and first.headers["etag"] == '"2"'
    by_route = client.post(path, json=NOTE, headers=key | ROUTE_ONLY)
    by_lane = client.post(path, json=NOTE, headers=key)
    assert taken == {"lane": 2, "route": 1}
    assert by_route.status_code == by_lane.status_code == 201
    assert by_lane.content == by_route.content == first.content
    assert by_lane.headers.raw == by_route.headers.raw
    assert by_lane.headers["idempotent-replayed"] == "true"
    fresh_by_route = client.post(path, json=NOTE | {"data": {"text": "y"}}, headers=ROUTE_ONLY)
    fresh_by_lane = client.post(path, json=NOTE | {"data": {"text": "z"}})
    assert [name for name, _ in fresh_by_route.headers.raw] == [name for name, _ in fresh_by_lane.headers.raw]
    assert fresh_by_lane.json()["version"] == fresh_by_route.json()["version"] + 1 == 4


@pytest.mark.parametrize("content, headers, field", [
    (b'{"type": "NoteAdded",', {"Content-Type": "application/json"}, ["body", "21"]),
    (b'{"type": "NoteAdded", "occurred_at": "never", "data": {}}', {"Content-Type": "application/json"},
     ["body", "occurred_at"]),
    (b'{"type": "NoteAdded", "occurred_at": "2026-01-01T00:00:00Z", "extra": 1}', {"Content-Type": "application/json"},
     ["body", "extra"]),
    (b"", {"Content-Type": "application/json"}, ["body"]),
    (b'{"type": "NoteAdded"}', {"Content-Type": "text/plain"}, ["body"]),
])
def test_what_the_lane_cannot_take_is_answered_by_the_route(client, case_id, taken, content, headers, field):
    response = client.post(f"/v1/cases/{case_id}/events", content=content, headers=headers)
    assert response.status_code == 422
    assert field in [entry["loc"] for entry in response.json()["detail"]]
    assert taken == {"lane": 0, "route": 1}


def test_a_refused_caller_with_a_valid_body_is_refused_by_the_lane(client, case_id, taken):
    response = client.post(f"/v1/cases/{case_id}/events", json=NOTE, headers={"Authorization": "Bearer vgl_wrong"})
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")
    assert response.json() == {"detail": "missing or invalid API key"}
    too_long = client.post(f"/v1/cases/{case_id}/events", json=NOTE, headers={"If-Match": "1" * 30})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["header", "If-Match"]
    missing = client.post("/v1/cases/no-such-case/events", json=NOTE)
    assert missing.status_code == 404
    assert taken == {"lane": 0, "route": 0}  # the lane's own errors, answered by the app's handlers


def test_other_methods_on_the_path_find_the_routes_as_before(client, case_id):
    assert client.get(f"/v1/cases/{case_id}/events").status_code == 200
    refused = client.put(f"/v1/cases/{case_id}/events", json=NOTE)
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
    assert client.app.url_path_for("append_event", case_id="x") == "/v1/cases/x/events"


def test_the_lane_goes_first_unless_an_earlier_route_takes_its_requests():
    router = APIRouter()

    @router.get("/first")
    async def first():
        return {}

    @router.post("/things/{thing_id}/events", response_model=AppendOut)
    async def hot(thing_id: str, body: EventIn):
        return {}

    async def answer(request, body, thing_id):
        return {}, []
    routes = list(router.routes)
    add_lean_route(routes, hot, answer)
    assert isinstance(routes[0], LeanRoute)

    @router.post("/things/{anything}/{kind}")
    async def greedy(anything: str, kind: str):
        return {}
    routes = [router.routes[0], router.routes[2], router.routes[1]]
    add_lean_route(routes, hot, answer)
    assert isinstance(routes[2], LeanRoute) and routes[3].endpoint is hot



def test_json_too_deep_for_the_parser_is_answered_by_the_route(client, case_id, taken):
    response = client.post(f"/v1/cases/{case_id}/events", content=b"[" * 100_000 + b"]" * 100_000,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and taken == {"lane": 0, "route": 1}
