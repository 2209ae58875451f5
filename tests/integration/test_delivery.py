"""Alerts delivered to a real local HTTP receiver: signatures, retries, 410, 429, dead and replay, escalation."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook

from service.keys import KeyService

from .helpers.delivery import (REMOVED, append, clock, deliveries, drain, open_case,  # noqa: F401 - clock: a fixture
                               subscribe)


def test_signed_webhook_verified_by_the_reference_package(client, box, receiver):
    sub = subscribe(client, receiver.url("/hook"), everything=True)
    case_id = open_case(client)
    # Two days ago: within the history horizon, so it pages on its own.
    append(client, case_id, "InterimMeasureGranted", {"body": "ECtHR"},
           (datetime.now(timezone.utc) - timedelta(days=2)).isoformat())
    append(client, case_id, "Removed", REMOVED)
    assert drain(box) == 4  # CaseOpened, InterimMeasureGranted, Removed, and the breach of the measure
    got = receiver.at("/hook")
    assert len(got) == 4
    bodies = {}
    for request in got:
        payload = Webhook(sub["secret"]).verify(request.body, request.headers)  # raises if the signature is wrong
        bodies[payload["data"]["rule"]] = (payload, request.headers["webhook-id"])
    assert set(bodies) == {"event.CaseOpened", "event.InterimMeasureGranted", "event.Removed",
                           "breach.interim_measure"}
    breach, webhook_id = bodies["breach.interim_measure"]
    assert breach["type"] == "alert.raised" and breach["data"]["severity"] == "critical"
    assert breach["data"]["case_id"] == case_id and breach["data"]["event_type"] == "Removed"
    assert breach["data"]["case_url"].endswith(f"/cases/{case_id}")
    assert webhook_id in {d["id"] for d in deliveries(client, state="delivered")}
    assert all(b"Delivery Person" not in r.body for r in got)
    with pytest.raises(Exception):
        Webhook("whsec_" + "A" * 32).verify(got[0].body, got[0].headers)


def test_filters_choose_which_alerts_a_subscription_gets(client, box, receiver):
    subscribe(client, receiver.url("/critical-kz"), filter={"min_severity": "critical", "countries": ["KZ"]})
    subscribe(client, receiver.url("/tagged"), filter={"tags": ["watch"], "event_types": ["Detained"]})
    in_france = open_case(client, tags=["watch"])
    in_kazakhstan = open_case(client, country="KZ")
    append(client, in_france, "Detained")
    append(client, in_kazakhstan, "Detained")  # high: below the first subscription's minimum
    append(client, in_kazakhstan, "Removed", REMOVED)
    drain(box)
    assert [json.loads(r.body)["data"]["case_id"] for r in receiver.at("/tagged")] == [in_france]
    assert [json.loads(r.body)["data"]["rule"] for r in receiver.at("/critical-kz")] == ["event.Removed"]


def test_retry_then_success_keeps_the_webhook_id(client, box, receiver, clock):
    subscribe(client, receiver.url("/flaky"))
    receiver.script("/flaky", 500, 200)
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [failed] = deliveries(client)
    assert failed["state"] == "failed" and failed["attempts"] == 1 and failed["last_error"] == "HTTP 500"
    assert drain(box) == 0  # not due yet
    clock.advance(timedelta(seconds=10))
    drain(box)
    [done] = deliveries(client)
    assert done["state"] == "delivered" and done["attempts"] == 2
    ids = {r.headers["webhook-id"] for r in receiver.at("/flaky")}
    assert ids == {done["id"]} and len(receiver.at("/flaky")) == 2
    log = client.get(f"/v1/deliveries/{done['id']}").json()["attempt_log"]
    assert [(a["outcome"], a["status_code"]) for a in log] == [("retry", 500), ("delivered", 200)]


def test_429_honours_retry_after(client, box, receiver, clock):
    subscribe(client, receiver.url("/busy"))
    receiver.script("/busy", (429, {"Retry-After": "120"}), 200)
    append(client, open_case(client), "Removed", REMOVED)
    before = clock.now()
    drain(box)
    [waiting] = deliveries(client)
    assert datetime.fromisoformat(waiting["next_attempt_at"]) >= before + timedelta(seconds=120)
    clock.advance(timedelta(seconds=60))
    assert drain(box) == 0
    clock.advance(timedelta(seconds=70))
    assert drain(box) == 1 and deliveries(client)[0]["state"] == "delivered"


def test_410_disables_the_subscription(client, box, receiver):
    sub = subscribe(client, receiver.url("/gone"))
    receiver.script("/gone", 410)
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    drain(box)
    [dead] = deliveries(client)
    assert dead["state"] == "dead" and "410" in dead["last_error"]
    assert client.get(f"/v1/subscriptions/{sub['id']}").json()["disabled"] is True
    append(client, case_id, "WhereaboutsUnknown")
    assert drain(box) == 0 and len(deliveries(client)) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_4xx_refusal_is_dead_at_once_with_its_reason_and_replayable(client, box, receiver, clock, status):
    sub = subscribe(client, receiver.url("/refuses"))
    receiver.script("/refuses", status, 200)
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [dead] = deliveries(client)
    assert dead["state"] == "dead" and dead["attempts"] == 1 and dead["next_attempt_at"] is None
    assert dead["last_error"] == f"HTTP {status}: refused by the receiver; not retried"
    assert client.get(f"/v1/subscriptions/{sub['id']}").json()["disabled"] is False  # only 410 disables
    clock.advance(timedelta(hours=2))
    assert drain(box) == 0 and len(receiver.at("/refuses")) == 1  # never sent again on its own
    assert client.post(f"/v1/deliveries/{dead['id']}/retry").status_code == 200
    drain(box)
    assert deliveries(client)[0]["state"] == "delivered"


def test_dead_after_a_day_then_replayed(client, box, receiver, clock):
    subscribe(client, receiver.url("/down"))
    receiver.script("/down", 503)
    append(client, open_case(client), "Removed", REMOVED)
    for _ in range(60):
        drain(box)
        [delivery] = deliveries(client)
        if delivery["state"] == "dead":
            break
        clock.set(datetime.fromisoformat(delivery["next_attempt_at"]) + timedelta(seconds=1))
    assert delivery["state"] == "dead" and 20 <= delivery["attempts"] <= 40
    receiver.script("/down", 200)
    replayed = client.post(f"/v1/deliveries/{delivery['id']}/retry")
    assert replayed.status_code == 200 and replayed.json()["state"] == "pending"
    assert client.post(f"/v1/deliveries/{delivery['id']}/retry").status_code == 409
    drain(box)
    assert deliveries(client)[0]["state"] == "delivered"
    assert {r.headers["webhook-id"] for r in receiver.at("/down")} == {delivery["id"]}


def test_bad_receivers_are_recorded_and_the_worker_goes_on(client, box, receiver):
    box.worker.send_timeout = 0.5
    for path, answer in (("/hang", "hang"), ("/close", "close"), ("/garbage", "garbage"), ("/fine", 200)):
        receiver.script(path, answer)
        subscribe(client, receiver.url(path))
    append(client, open_case(client), "Removed", REMOVED)
    assert drain(box) == 4
    states = {d["subscription_id"]: d for d in deliveries(client)}
    subs = client.get("/v1/subscriptions").json()["items"]  # in creation order: hang, close, garbage, fine
    outcome = [states[s["id"]] for s in subs]
    assert [d["state"] for d in outcome] == ["failed", "failed", "failed", "delivered"]
    assert "timeout" in outcome[0]["last_error"]
    assert all(d["last_error"] for d in outcome[:3])


def test_acknowledged_alerts_do_not_escalate_and_open_ones_do(client, box, receiver, clock):
    subscribe(client, receiver.url("/primary"), escalate_after="PT30M",
              escalate_to={"kind": "webhook", "url": receiver.url("/escalation")})
    acked_case, open_case_id = open_case(client), open_case(client)
    append(client, acked_case, "Removed", REMOVED)
    append(client, open_case_id, "Removed", REMOVED)
    drain(box)
    acked_alert = client.get("/v1/alerts", params={"case_id": acked_case}).json()["items"][0]
    acked = client.post(f"/v1/alerts/{acked_alert['id']}/ack")
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    clock.advance(timedelta(minutes=20))
    assert box.worker.escalate_due(clock.now()) == 0
    clock.advance(timedelta(minutes=11))
    assert box.worker.escalate_due(clock.now()) == 1
    assert box.worker.escalate_due(clock.now()) == 0  # once only
    drain(box)
    [escalated] = [json.loads(r.body) for r in receiver.at("/escalation")]
    assert escalated["type"] == "alert.escalated" and escalated["data"]["case_id"] == open_case_id


def test_retraction_sends_withdrawn_notices(client, box, receiver):
    subscribe(client, receiver.url("/hook"))
    case_id = open_case(client)
    wrong = append(client, case_id, "Removed", REMOVED)
    drain(box)
    append(client, case_id, "EventRetracted", {"event_id": wrong["event_id"], "reason": "misreported"})
    drain(box)
    types = [json.loads(r.body)["type"] for r in receiver.at("/hook")]
    assert types == ["alert.raised", "alert.withdrawn"]
    assert client.get("/v1/alerts", params={"case_id": case_id}).json()["items"][0]["state"] == "withdrawn"


def test_test_message_and_preview(client, box, receiver):
    sub = subscribe(client, receiver.url("/hook"))
    response = client.post(f"/v1/subscriptions/{sub['id']}/test")
    assert response.status_code == 200 and response.json()["state"] == "delivered"
    [request] = receiver.at("/hook")
    assert Webhook(sub["secret"]).verify(request.body, request.headers)["type"] == "test"
    preview = client.post("/v1/channels/preview", json={"channel": {"kind": "slack", "url":
                                                                    "https://hooks.slack.com/services/T0/B0/SECRET"}})
    assert preview.status_code == 200 and "SECRET" not in preview.text
    assert preview.json()["body"]["blocks"][0]["type"] == "header"
    assert receiver.at("/hook") == [request]  # preview sent nothing


def test_personal_data_only_where_an_admin_enabled_it(client, box, receiver):
    subscribe(client, receiver.url("/with-name"), include_personal_data=True)
    subscribe(client, receiver.url("/without"))
    editor = KeyService(box.engine, box.clock).create("editor", "lyon", "editor")
    refused = client.post("/v1/subscriptions", headers={"Authorization": f"Bearer {editor}"},
                          json={"name": "x", "channel": {"kind": "webhook", "url": receiver.url("/x")},
                                "include_personal_data": True})
    assert refused.status_code == 403
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    assert b"Delivery Person" in receiver.at("/with-name")[0].body
    assert b"Delivery Person" not in receiver.at("/without")[0].body


@pytest.mark.parametrize("body, loc", [
    ({"name": "x", "channel": {"kind": "pigeon", "url": "https://x.org"}}, ["body", "channel"]),
    ({"name": "x", "channel": {"kind": "webhook", "url": "not a url"}}, ["body", "channel", "webhook", "url"]),
    ({"name": "x", "channel": {"kind": "webhook", "url": "ftp://x.org/a"}}, ["body", "channel", "webhook", "url"]),
    ({"name": "x", "channel": {"kind": "email", "to": ["nobody"]}}, ["body", "channel", "email", "to", "0"]),
    ({"name": "x", "channel": {"kind": "webhook", "url": "https://x.org"}, "filter": {"event_types": ["Nope"]}},
     ["body", "filter", "event_types", "0"]),
    ({"name": "x", "channel": {"kind": "webhook", "url": "https://x.org"}, "filter": {"min_severity": "dire"}},
     ["body", "filter", "min_severity"]),
    ({"name": "x", "channel": {"kind": "webhook", "url": "https://x.org"}, "reminders": ["72 hours"]},
     ["body", "reminders", "0"]),
    ({"name": "x", "channel": {"kind": "webhook", "url": "https://x.org"}, "reminders": ["PT0H"]},
     ["body", "reminders", "0"]),
    ({"name": "x", "channel": {"kind": "webhook", "url": "https://x.org"}, "reminders": ["PT1H"] * 11},
     ["body", "reminders"]),
    ({"name": "x", "channel": {"kind": "webhook", "url": "https://x.org"}, "escalate_after": "PT1H"}, ["body"]),
])
def test_bad_subscription_input_names_the_field(client, body, loc):
    response = client.post("/v1/subscriptions", json=body)
    assert response.status_code == 422, response.text
    assert any(d["loc"] == loc for d in response.json()["detail"]), response.json()
    assert client.get("/v1/subscriptions").json()["items"] == []


def test_inbox_holds_serious_alerts_always_and_minor_ones_only_when_subscribed(client, box, receiver):
    case_id = open_case(client)
    append(client, case_id, "NoteAdded", {"text": "called the lawyer"})
    append(client, case_id, "Detained")
    assert [a["rule"] for a in client.get("/v1/alerts").json()["items"]] == ["event.Detained"]
    subscribe(client, receiver.url("/notes"), filter={"event_types": ["NoteAdded"]})
    append(client, case_id, "NoteAdded", {"text": "hearing moved"})
    assert [a["rule"] for a in client.get("/v1/alerts").json()["items"]] == ["event.NoteAdded", "event.Detained"]


def test_a_bug_while_preparing_is_recorded_as_one_and_not_retried(client, box, receiver, clock, monkeypatch):
    """Issue 16: a programming error while rendering is dead at once with its type in last_error (visible in
    /v1/deliveries), not retried silently for a day; an outage while preparing (an OSError) is retried."""
    import notifications.channels as channels

    subscribe(client, receiver.url("/hook"))
    append(client, open_case(client), "Removed", REMOVED)

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(channels, "render", broken)
    drain(box)
    [dead] = deliveries(client)
    assert dead["state"] == "dead" and dead["last_error"] == "internal error: KeyError" and dead["attempts"] == 1
    assert receiver.at("/hook") == []

    append(client, open_case(client), "Removed", REMOVED)

    def unreachable(*args, **kwargs):
        raise OSError("disk gone for a moment")

    monkeypatch.setattr(channels, "render", unreachable)
    drain(box)
    waiting = next(d for d in deliveries(client) if d["id"] != dead["id"])
    assert waiting["state"] == "failed" and waiting["next_attempt_at"] is not None
    assert waiting["last_error"] == "outage while preparing: OSError"
