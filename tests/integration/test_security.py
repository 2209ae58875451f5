"""Who may do what: the role x team matrix, the access log, rate limits, bad keys and hostile input."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from events.tables import events
from service.keys import KeyService
from service.rate_limit import RateLimiter

ROLES = ("admin", "editor", "viewer")
NOTE = {"type": "NoteAdded", "occurred_at": "2026-01-01T00:00:00Z", "data": {"text": "x"}}


@pytest.fixture
def world(client, box):
    """Two teams' cases, one key per role in team lyon, and a subscription and alert of each team."""
    keys = {role: KeyService(box.engine, box.clock).create(role, "lyon" if role != "admin" else "hq", role) for role in ROLES}
    oslo_editor = KeyService(box.engine, box.clock).create("editor", "oslo", "oslo editor")

    def as_(key):
        return {"Authorization": f"Bearer {key}"}

    def case(team_key):
        body = {"person": {"name": "Matrix Person"}, "country": "NO"}
        return client.post("/v1/cases", json=body, headers=as_(team_key)).json()["id"]

    subs = {}
    for name, key in (("own", keys["editor"]), ("other", oslo_editor)):
        subs[name] = client.post("/v1/subscriptions", headers=as_(key), json={
            "name": name, "channel": {"kind": "webhook", "url": "http://127.0.0.1:9/x"},
            "filter": {"event_types": ["Detained"]}}).json()["id"]
    own, other = case(keys["editor"]), case(oslo_editor)
    for case_id in (own, other):
        client.post(f"/v1/cases/{case_id}/events", headers=as_(keys["admin"]), json={
            "type": "Detained", "occurred_at": "2026-03-01T00:00:00Z", "data": {}})  # recent: it pages
    alerts = {a["case_id"]: a["id"] for a in client.get("/v1/alerts").json()["items"]}
    deliveries = {d["subscription_id"]: d["id"] for d in client.get("/v1/deliveries").json()["items"]}
    return {"keys": keys, "as": as_, "case": {"own": own, "other": other}, "sub": subs,
            "alert": {"own": alerts[own], "other": alerts[other]},
            "delivery": {"own": deliveries[subs["own"]], "other": deliveries[subs["other"]]}}


# (name, method, path, body, expected status by (role, scope))
def _same(status):
    return {(r, s): status for r in ROLES for s in ("own", "other")}


def _scoped(ok, hidden=404, viewer=None):
    out = {("admin", "own"): ok, ("admin", "other"): ok, ("editor", "own"): ok, ("editor", "other"): hidden}
    out[("viewer", "own")] = viewer or ok
    out[("viewer", "other")] = viewer or hidden
    return out


MATRIX = [
    ("read case", "GET", "/v1/cases/{case}", None, _scoped(200)),
    ("status", "GET", "/v1/cases/{case}/status", None, _scoped(200)),
    ("history", "GET", "/v1/cases/{case}/events", None, _scoped(200)),
    ("verify", "GET", "/v1/cases/{case}/verify", None, _scoped(200)),
    ("export", "GET", "/v1/cases/{case}/export", None, _scoped(200)),
    ("append", "POST", "/v1/cases/{case}/events", NOTE, _scoped(201, viewer=403)),
    ("erase", "POST", "/v1/cases/{case}/erase", {}, {**_same(403), ("admin", "own"): 200, ("admin", "other"): 200}),
    ("open case", "POST", "/v1/cases", {"person": {"name": "N"}, "country": "FR"},
     {**_same(201), ("viewer", "own"): 403, ("viewer", "other"): 403}),
    ("list cases", "GET", "/v1/cases", None, _same(200)),
    ("feed", "GET", "/v1/events", None, _same(200)),
    ("catalogue", "GET", "/v1/event-types", None, _same(200)),
    ("subscribe", "POST", "/v1/subscriptions", {"name": "n", "channel": {"kind": "webhook", "url": "http://127.0.0.1:9/"}},
     {**_same(201), ("viewer", "own"): 403, ("viewer", "other"): 403}),
    ("list subscriptions", "GET", "/v1/subscriptions", None, _same(200)),
    ("read subscription", "GET", "/v1/subscriptions/{sub}", None, _scoped(200)),
    ("delete subscription", "DELETE", "/v1/subscriptions/{sub}", None, _scoped(204, viewer=403)),
    ("list alerts", "GET", "/v1/alerts", None, _same(200)),
    ("acknowledge", "POST", "/v1/alerts/{alert}/ack", None, _scoped(200, viewer=403)),
    ("deliveries", "GET", "/v1/deliveries", None, _same(200)),
    ("read delivery", "GET", "/v1/deliveries/{delivery}", None, _scoped(200)),
    ("replay delivery", "POST", "/v1/deliveries/{delivery}/retry", None, _scoped(409, viewer=403)),  # not dead
    ("test message", "POST", "/v1/subscriptions/{sub}/test", None, _scoped(200, viewer=403)),
    ("verify access log", "GET", "/v1/access-log/verify", None,
     {**_same(403), ("admin", "own"): 200, ("admin", "other"): 200}),
    ("preview", "POST", "/v1/channels/preview", {"channel": {"kind": "teams", "url": "https://x.example/"}},
     _same(200)),
    ("access log", "GET", "/v1/access-log", None, {**_same(403), ("admin", "own"): 200, ("admin", "other"): 200}),
]


@pytest.mark.parametrize("name, method, path, body, expected", MATRIX, ids=[m[0] for m in MATRIX])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("scope", ("own", "other"))
def test_role_and_team_matrix(client, world, name, method, path, body, expected, role, scope):
    url = path.format(case=world["case"][scope], sub=world["sub"][scope], alert=world["alert"][scope],
                      delivery=world["delivery"][scope])
    response = client.request(method, url, headers={**world["as"](world["keys"][role]),
                                                    "content-type": "application/json"},
                              content=json.dumps(body) if body is not None else None)
    assert response.status_code == expected[(role, scope)], (name, role, scope, response.text)


def test_lists_show_only_the_teams_own_cases(client, world):
    as_viewer = world["as"](world["keys"]["viewer"])
    listed = {c["id"] for c in client.get("/v1/cases", headers=as_viewer).json()["items"]}
    assert world["case"]["own"] in listed and world["case"]["other"] not in listed
    fed = {e["stream_id"] for e in client.get("/v1/events", headers=as_viewer).json()["items"]}
    assert fed == {world["case"]["own"]}
    alerts = {a["case_id"] for a in client.get("/v1/alerts", headers=as_viewer).json()["items"]}
    assert alerts == {world["case"]["own"]}
    assert "person" not in client.get(f"/v1/cases/{world['case']['own']}", headers=as_viewer).json()


def test_reads_and_exports_are_in_the_access_log(client, world, box, engine):
    as_viewer, case_id = world["as"](world["keys"]["viewer"]), world["case"]["own"]
    before = len(client.get("/v1/access-log", params={"case_id": case_id, "limit": 1000}).json()["items"])
    for path in ("", "/status", "/events", "/verify", "/export?format=csv"):
        assert client.get(f"/v1/cases/{case_id}{path}", headers=as_viewer).status_code == 200
    entries = client.get("/v1/access-log", params={"case_id": case_id, "limit": 1000}).json()["items"][before:]
    assert [e["action"] for e in entries] == ["read", "read_status", "read_events", "verify", "export"]
    assert {e["role"] for e in entries} == {"viewer"} and all(e["actor"].startswith("key:") for e in entries)
    assert all(e["client"] and "?" not in e["path"] for e in entries)
    assert client.get("/v1/access-log/verify").json()["ok"] is True
    with pytest.raises(Exception):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM access_log"))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE access_log DISABLE TRIGGER access_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER access_log_no_update"))
        conn.execute(text("UPDATE access_log SET actor = 'key:nobody' WHERE position = :p"),
                     {"p": entries[2]["position"]})
    broken = client.get("/v1/access-log/verify").json()
    assert broken["ok"] is False and broken["bad_position"] == entries[2]["position"]


def test_rate_limit_per_key(client, box):
    moments = [0.0]
    box.rate_limiter = RateLimiter(3, now=lambda: moments[0])
    other = {"Authorization": f"Bearer {KeyService(box.engine, box.clock).create('viewer', 'x', 'other')}"}
    assert [client.get("/v1/event-types").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/v1/event-types")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) == 20
    assert client.get("/v1/event-types", headers=other).status_code == 200  # other keys are not affected
    moments[0] = 20.0
    assert client.get("/v1/event-types").status_code == 200


def test_bad_keys_all_get_the_same_401(client, box):
    keys = KeyService(box.engine, box.clock)
    revoked = keys.create("admin", "hq", "gone")
    keys.revoke(keys.authenticate(revoked).key_id)
    answers = set()
    for header in ("", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-key", f"Bearer {revoked}",
                   "bearer " + "x" * 5000):
        response = client.get("/v1/cases", headers={"Authorization": header})
        assert response.status_code == 401, header
        answers.add(response.text)
    assert len(answers) == 1


@pytest.mark.parametrize("content", [
    json.dumps({**NOTE, "data": {"text": "x", "note": json.loads("[" * 500 + "]" * 500)}}).encode(),
    b'{"type": "NoteAdded", "occurred_at": "2026-01-01T00:00:00Z", "data": {"text": "\xff\xfe"}}',
    json.dumps({**NOTE, "data": {"text": "x" * 100_000}}).encode(),
    json.dumps({**NOTE, "type": "N" * 10_000}).encode(),
    json.dumps({**NOTE, "occurred_at": "9" * 5000}).encode(),
    json.dumps({**NOTE, "date_precision": 10 ** 40}).encode(),
    json.dumps({**NOTE, "event_id": "1" * 1000}).encode(),
    b"[" * 100_000 + b"]" * 100_000,
    b"\x00\x01\x02",
])
def test_hostile_event_input_is_4xx_and_stores_nothing(client, world, engine, content):
    case_id = world["case"]["own"]
    with engine.connect() as conn:
        before = len(conn.execute(select(events.c.position)).all())
    response = client.post(f"/v1/cases/{case_id}/events", content=content,
                           headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text[:200]
    with engine.connect() as conn:
        assert len(conn.execute(select(events.c.position)).all()) == before


@pytest.mark.parametrize("body, field", [
    ({"person": {"name": "x" * 10_000}, "country": "FR"}, ["body", "person", "name"]),
    ({"person": {"name": "N", "birth_year": 10 ** 30}, "country": "FR"}, ["body", "person", "birth_year"]),
    ({"person": {"name": "N", "aliases": ["a"] * 10_000}, "country": "FR"}, ["body", "person", "aliases"]),
    ({"person": {"name": "N"}, "country": "FR", "tags": ["t"] * 10_000}, ["body", "tags"]),
    ({"person": {"name": "N"}, "country": "F" * 10_000}, ["body", "country"]),
    ({"person": {"name": "N"}, "country": "FR", "summary": "s" * 100_000}, ["body", "summary"]),
    ({"person": {"name": "N\u0000"}, "country": "FR", "teams": ["../../etc"]}, ["body", "person", "name"]),
])
def test_hostile_case_input_is_422(client, body, field):
    response = client.post("/v1/cases", json=body)
    assert response.status_code == 422
    assert any(error["loc"][:len(field)] == field for error in response.json()["detail"]), response.json()
    assert client.get("/v1/cases").json()["items"] == []  # nothing was opened


@pytest.mark.parametrize("url", ["/v1/events?after=99999999999999999999999", "/v1/events?limit=-1",
                                 f"/v1/cases/{uuid.uuid4()}/events?after_version=99999999999999999999",
                                 "/v1/cases?cursor=99999999999999999999", "/v1/alerts?limit=99999999999"])
def test_huge_numbers_in_queries_are_4xx(client, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500  # 422, or 404 for the unknown case: never a 500
    if response.status_code == 422:  # the answer names the parameter
        param = url.split("?")[1].split("=")[0]
        assert [error["loc"] for error in response.json()["detail"]] == [["query", param]]


def test_wrong_keys_are_throttled_per_address_with_retry_after(client, box):
    """Attack-run finding 9: past VIGIL_AUTH_FAILURES_PER_MINUTE wrong keys from one address, 429 with Retry-After
    on the API, the pages and the sign-in form, even for a right key, until the minute is over; counted in the
    database, so another server process (a second app on the same database) refuses the address too."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    limit = box.settings.auth_failures_per_minute
    wrong = {"Authorization": "Bearer vgl_wrong"}
    statuses = [client.get("/v1/cases", headers=wrong).status_code for _ in range(limit + 1)]
    assert statuses == [401] * limit + [429]
    refused = client.get("/v1/cases")  # even the right key, from this address
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/", headers=wrong).status_code == 429
    with TestClient(create_app(box.__class__(**{**box.__dict__, "auth_throttle": type(box.auth_throttle)(
            box.engine, box.clock, limit)}))) as other_process:
        assert other_process.get("/v1/cases", headers=wrong).status_code == 429  # the count is shared
    box.clock.advance(timedelta(seconds=61))
    assert client.get("/v1/cases").status_code == 200
    assert client.get("/v1/cases", headers=wrong).status_code == 401


def _wrong_keys_from(app, host: str, times: int) -> list[int]:
    from fastapi.testclient import TestClient

    from_there = TestClient(app, client=(host, 50000), headers={"Authorization": "Bearer vgl_wrong"})
    return [from_there.get("/v1/cases").status_code for _ in range(times)]


@pytest.mark.parametrize("first, same, apart", [
    ("203.0.113.5", "::ffff:203.0.113.5", "203.0.113.6"),  # IPv4, and the same written IPv4-mapped
    ("2001:db8:0:1::1", "2001:db8:0:1:ffff::2", "2001:db8:0:2::1"),  # one /64 shares a count, the next is apart
])
def test_wrong_keys_are_counted_per_ipv4_address_and_per_ipv6_slash_64(client, box, first, same, apart):
    limit = box.settings.auth_failures_per_minute
    assert _wrong_keys_from(client.app, first, limit + 1) == [401] * limit + [429]
    assert _wrong_keys_from(client.app, same, 1) == [429]
    assert _wrong_keys_from(client.app, apart, 1) == [401]
    assert _wrong_keys_from(client.app, "not-an-address" * 10, 1) == [401]  # counted as itself: never a 500
