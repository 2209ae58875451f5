"""GET /live against a real uvicorn: sign-in required, a team hears of its own cases only, heartbeats, Last-Event-ID,
no personal data in a notice, and a closed page leaves no subscriber behind."""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager

import httpx
import pytest

from service.keys import KeyService

from .helpers.cases import PERSON, append
from .helpers.tlog import serve_app


@contextmanager
def served(box):
    from service.app import create_app

    # A stream open at the end would hold uvicorn's shutdown: it is cut after a second.
    with serve_app(create_app(box), timeout_graceful_shutdown=1) as base:
        yield base


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


class Stream:
    """An open /live stream read line by line; `next_notice` returns the next data line's notice and its id."""

    def __init__(self, response: httpx.Response):
        self.lines = response.iter_lines()
        self.raw: list[str] = []
        self.last_id: str | None = None

    def next_line(self) -> str:
        line = next(self.lines)
        self.raw.append(line)
        return line

    def next_notice(self) -> tuple[dict, str | None]:
        event_id = None
        while True:
            line = self.next_line()
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                return json.loads(line[6:]), event_id


@contextmanager
def stream(base: str, headers: dict, **params):
    # Generous: this checks that notices arrive at all (the browser test holds them to 2 s); CI machines are busy.
    with httpx.Client(base_url=base, timeout=httpx.Timeout(15.0)) as http:
        with http.stream("GET", "/live", headers=headers, params=params) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            opened = Stream(response)
            assert opened.next_line() == "retry: 2000"  # reconnect soon after a drop
            yield opened


@pytest.fixture
def teams(client, box):
    """An editor's key for each of two teams, each team subscribed (so a detention raises an alert)."""
    keys = KeyService(box.engine, box.clock)
    made = {team: keys.create("editor", team, f"{team} editor") for team in ("alpha", "beta")}
    for key in made.values():
        answer = client.post("/v1/subscriptions", headers=bearer(key), json={
            "name": "desk", "channel": {"kind": "webhook", "url": "https://hooks.ngo.example/x"}})
        assert answer.status_code == 201, answer.text
    return made


def test_the_stream_needs_a_signed_in_viewer(client):
    with httpx.Client(transport=client._transport, base_url="http://testserver") as anonymous:
        assert anonymous.get("/live").status_code == 401
        assert anonymous.get("/live", headers=bearer("not-a-key")).status_code == 401


def test_a_team_hears_of_its_own_cases_only_and_never_a_name(client, box, teams):
    ours = client.post("/v1/cases", headers=bearer(teams["alpha"]), json={"person": PERSON, "country": "FR"}).json()["id"]
    theirs = client.post("/v1/cases", headers=bearer(teams["beta"]), json={"person": PERSON, "country": "FR"}).json()["id"]
    with served(box) as base, stream(base, bearer(teams["alpha"])) as alpha:
        assert append(client, theirs, "Detained", {"place": "Nice"}, headers=bearer(teams["beta"])).status_code == 201
        assert append(client, ours, "Detained", {"place": "Nice"}, headers=bearer(teams["alpha"])).status_code == 201
        notice, _ = alpha.next_notice()
        assert notice == {"kind": "event", "case_id": ours}  # what changed and where; nothing of whom
        text = "\n".join(alpha.raw)
        assert theirs not in text
        for word in (PERSON["name"], "Nice", "alpha", "beta"):
            assert word not in text


def test_an_admin_hears_of_every_team(client, box, teams):
    theirs = client.post("/v1/cases", headers=bearer(teams["beta"]), json={"person": PERSON, "country": "FR"}).json()["id"]
    with served(box) as base, stream(base, {"Authorization": client.headers["Authorization"]}) as admin:
        assert append(client, theirs, "Detained", {"place": "Nice"}, headers=bearer(teams["beta"])).status_code == 201
        notice, _ = admin.next_notice()
        assert notice["case_id"] == theirs


def test_heartbeats_keep_an_idle_stream_open(client, box, teams):
    box.live.heartbeat_seconds = 0.2
    with served(box) as base, stream(base, bearer(teams["alpha"])) as alpha:
        started = time.monotonic()
        beats = 0
        while beats < 3:
            if alpha.next_line() == ": heartbeat":
                beats += 1
        assert time.monotonic() - started < 3


def test_last_event_id_replays_what_the_page_missed(client, box, teams):
    ours = client.post("/v1/cases", headers=bearer(teams["alpha"]), json={"person": PERSON, "country": "FR"}).json()["id"]
    first = append(client, ours, "Detained", {"place": "Nice"}, headers=bearer(teams["alpha"])).json()
    theirs = client.post("/v1/cases", headers=bearer(teams["beta"]), json={"person": PERSON, "country": "FR"}).json()["id"]
    append(client, theirs, "Detained", {"place": "Nice"}, headers=bearer(teams["beta"]))
    with served(box) as base:
        head = box.live.changes.head()
        # Asked from before the case was opened: one notice for the case, with the position of its last event.
        with stream(base, {**bearer(teams["alpha"]), "Last-Event-ID": "1"}) as alpha:
            notice, event_id = alpha.next_notice()
            assert notice == {"kind": "event", "case_id": ours}
            assert int(event_id) == box.live.changes.events_after(0, 100)[0].position
        with stream(base, bearer(teams["alpha"]), since=str(head)) as alpha:
            append(client, ours, "Released", {}, headers=bearer(teams["alpha"]))
            notice, event_id = alpha.next_notice()
            assert notice["case_id"] == ours and int(event_id) > head  # nothing replayed from before `since`
    assert first["version"] == 2


def test_acknowledging_an_alert_is_told(client, box, teams):
    ours = client.post("/v1/cases", headers=bearer(teams["alpha"]), json={"person": PERSON, "country": "FR"}).json()["id"]
    alert = client.get("/v1/alerts", params={"case_id": ours}).json()["items"][0]  # raised as the case opened
    with served(box) as base, stream(base, bearer(teams["alpha"])) as alpha:
        answer = client.post(f"/v1/alerts/{alert['id']}/ack", headers=bearer(teams["alpha"]))
        assert answer.status_code == 200, answer.text
        assert alpha.next_notice()[0] == {"kind": "alert", "case_id": ours}


def test_a_closed_page_leaves_no_subscriber(client, box, teams):
    with served(box) as base:
        with stream(base, bearer(teams["alpha"])):
            assert box.live.subscribers == 1
        deadline = time.monotonic() + 5
        while box.live.subscribers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert box.live.subscribers == 0
        assert box.live._follower is None  # the follower stops with the last subscriber


@pytest.mark.parametrize("last_id", ["abc", "-1", "9" * 40, "1e9", "7 8"])
def test_a_last_event_id_not_ours_is_ignored_not_an_error(client, box, teams, last_id):
    with served(box) as base, stream(base, {**bearer(teams["alpha"]), "Last-Event-ID": last_id}, since=last_id):
        assert box.live.subscribers == 1


def test_a_revoked_key_ends_its_stream_at_the_next_heartbeat(client, box, teams):
    box.live.heartbeat_seconds = 0.2
    keys = KeyService(box.engine, box.clock)
    alpha_id = keys.authenticate(teams["alpha"]).key_id
    with served(box) as base, stream(base, bearer(teams["alpha"])) as alpha:
        assert alpha.next_line() in (": connected", "")
        keys.revoke(alpha_id)
        with pytest.raises(StopIteration):  # the server ended the stream, well before 50 heartbeats
            for _ in range(100):
                alpha.next_line()
        assert ": heartbeat" not in alpha.raw[-2:]


def test_notices_come_one_per_case_and_a_flood_asks_pages_to_reload(client, box, teams):
    from service.access import Principal
    from service.live import Subscriber

    ours = client.post("/v1/cases", headers=bearer(teams["alpha"]), json={"person": PERSON, "country": "FR"}).json()["id"]
    for place in ("Nice", "Lyon"):
        append(client, ours, "Detained", {"place": place}, headers=bearer(teams["alpha"]))
    changes = box.live.changes
    head = changes.head()
    assert [(n.kind, n.case_id, n.position) for n in changes.events_after(head - 3, 100)] == [("event", ours, head)]
    flooded = changes.events_after(head - 3, 2)  # more than a read may take: the last notice says so
    assert flooded[-1].kind == "reload"
    beta = Subscriber(Principal("k", "beta editor", "editor", "beta"))
    for notice in flooded:
        beta.offer(notice)
    assert [beta.queue.get_nowait().kind] == ["reload"] and beta.queue.empty()  # and names no case of alpha's


def test_pages_opened_together_share_one_follower(client, box, teams):
    ours = client.post("/v1/cases", headers=bearer(teams["alpha"]), json={"person": PERSON, "country": "FR"}).json()["id"]
    started, firsts, follow = [], [], box.live._follow
    box.live._follow = lambda *args: started.append(1) or follow(*args)
    with served(box) as base:
        with httpx.Client(base_url=base, timeout=httpx.Timeout(15.0)) as http:
            opened = [http.stream("GET", "/live", headers=bearer(teams["alpha"])) for _ in range(4)]
            def first_line(s):  # by then its subscription is made; the reader is kept, or it would close the stream
                lines = s.__enter__().iter_lines()
                firsts.append((next(lines), lines))

            threads = [threading.Thread(target=first_line, args=(s,)) for s in opened]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert [line for line, _ in firsts] == ["retry: 2000"] * 4 and len(started) == 1
            append(client, ours, "Detained", {"place": "Nice"}, headers=bearer(teams["alpha"]))
            for s in opened:
                s.__exit__(None, None, None)
        deadline = time.monotonic() + 5
        while (box.live.subscribers or box.live._follower) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert box.live.subscribers == 0 and box.live._follower is None


def test_one_principal_cannot_hold_streams_without_end(client, box, teams):
    box.live.max_per_actor = 2
    with served(box) as base, stream(base, bearer(teams["alpha"])), stream(base, bearer(teams["alpha"])):
        with httpx.Client(base_url=base, timeout=httpx.Timeout(15.0)) as http:
            refused = http.get("/live", headers=bearer(teams["alpha"]))
        assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
        assert box.live.subscribers == 2
        with stream(base, bearer(teams["beta"])):  # another principal is not held back by alpha's streams
            assert box.live.subscribers == 3
