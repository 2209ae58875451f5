"""log.checkpoint webhooks: each signed checkpoint, with its witness's cosignature, to every opted-in webhook
subscription (of every team), verified on a real local receiver; retries send the same checkpoint; no case data."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from standardwebhooks import Webhook

from events.transactions import writing
from evidence import notes
from evidence.notes import COSIGNATURE_V1
from evidence.witness import Witness
from evidence.witness_client import WitnessConfig
from evidence.witness_http import create_witness_app
from evidence.witness_state import StateFile
from notifications.channels.email import SmtpSettings
from notifications.tables import subscriptions
from service.keys import KeyService

from .helpers.delivery import (REMOVED, append, clock, deliveries, drain, open_case,  # noqa: F401 - clock: a fixture
                               subscribe)
from .helpers.tlog import serve_app

PERSON = "Delivery Person"  # open_case's


def checkpoints_to(receiver, path: str, secret: str) -> list[tuple[dict, dict]]:
    """The log.checkpoint webhooks a path received, each verified by its Standard Webhooks signature."""
    got = []
    for request in receiver.at(path):
        payload = Webhook(secret).verify(request.body, request.headers)  # raises if the signature is wrong
        if payload["type"] == "log.checkpoint":
            got.append((payload, request.headers))
    return got


@pytest.fixture
def witness(box, tmp_path):
    """A real witness on a real socket, cosigning for this log; the log offers it each checkpoint."""
    key = notes.generate_signer("witness.partner.example/w1", COSIGNATURE_V1)
    app = create_witness_app(Witness(StateFile(tmp_path / "witness.json"), [box.log_signing.key.verifier()]), key,
                             clock=lambda: datetime.now(timezone.utc))
    with serve_app(app) as base:
        box.log_signing.witnessing.witnesses = [WitnessConfig(base, key.verifier)]
        yield key.verifier


def test_an_opted_in_subscription_holds_each_cosigned_checkpoint_and_its_alerts_are_unchanged(
        client, box, receiver, witness):
    keeper = subscribe(client, receiver.url("/keeper"), log_checkpoints=True)
    plain = subscribe(client, receiver.url("/plain"))
    gone = subscribe(client, receiver.url("/gone"), log_checkpoints=True)
    assert client.delete(f"/v1/subscriptions/{gone['id']}").status_code == 204
    assert keeper["log_checkpoints"] is True and plain["log_checkpoints"] is False
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)

    signed = box.log_signing.run(force=True)
    assert signed is not None
    assert drain(box) == 3  # the removal's alert to both, and one checkpoint, to the keeper only

    [(payload, headers)] = checkpoints_to(receiver, "/keeper", keeper["secret"])
    assert checkpoints_to(receiver, "/plain", plain["secret"]) == [] and receiver.at("/gone") == []
    for path, sub in (("/keeper", keeper), ("/plain", plain)):  # opting in changed nothing about alerts
        alerts = [json.loads(r.body) for r in receiver.at(path) if json.loads(r.body)["type"] == "alert.raised"]
        assert [a["data"]["rule"] for a in alerts] == ["event.Removed"]

    data = payload["data"]
    [delivery] = [d for d in deliveries(client, subscription_id=keeper["id"]) if d["kind"] == "checkpoint"]
    assert payload["id"] == headers["webhook-id"] == delivery["id"]
    assert delivery["state"] == "delivered" and delivery["alert_id"] is None
    assert delivery["tree_size"] == data["tree_size"] == signed.checkpoint.size
    # The note verifies with the log key it names, which is the one Vigil serves.
    assert data["log_key"] == client.get("/v1/log/key").text.strip()
    log_key = notes.parse_verifier_key(data["log_key"])
    checkpoint, _ = notes.open_checkpoint(data["checkpoint"], [log_key])
    assert (checkpoint.origin, checkpoint.size) == (data["origin"], data["tree_size"])
    assert base64.b64decode(data["root_hash"]) == checkpoint.root_hash == signed.checkpoint.root_hash
    # It carries the witness's cosignature, which verifies too.
    verified, _ = notes.open_note(data["checkpoint"], [log_key, witness])
    assert {s.name for s in verified.signatures} == {log_key.name, witness.name}
    assert data["log_url"] == "http://127.0.0.1:8000/v1/log/checkpoint"
    assert data["checkpoint"] == client.get("/v1/log/checkpoint").text
    # Hashes and signatures only: no case, no person.
    body = next(r.body for r in receiver.at("/keeper") if json.loads(r.body)["type"] == "log.checkpoint")
    assert case_id.encode() not in body and PERSON.encode() not in body
    assert set(data) == {"origin", "tree_size", "root_hash", "checkpoint", "log_key", "log_url"}

    assert box.log_signing.on_signed[-1](signed.checkpoint.size) == 0  # told twice, it is queued once
    assert box.log_signing.run(force=True) is None  # the log has not grown: nothing new to sign or send
    assert drain(box) == 0


def test_a_failing_receiver_is_retried_with_the_same_checkpoint(client, box, receiver, clock):
    keeper = subscribe(client, receiver.url("/flaky"), log_checkpoints=True)
    receiver.script("/flaky", 503, 200)
    case_id = open_case(client)
    first = box.log_signing.run(force=True)
    drain(box)
    [failed] = deliveries(client)
    assert failed["kind"] == "checkpoint" and failed["state"] == "failed" and failed["last_error"] == "HTTP 503"

    append(client, case_id, "Detained")  # the log grows and signs again before the retry is due
    second = box.log_signing.run(force=True)
    assert second.checkpoint.size > first.checkpoint.size
    clock.advance(timedelta(seconds=10))
    assert drain(box) == 2
    sent = {payload["id"]: payload["data"] for payload, _ in checkpoints_to(receiver, "/flaky", keeper["secret"])}
    assert sent[failed["id"]]["tree_size"] == first.checkpoint.size  # the retry: the same checkpoint, same id
    assert len(receiver.at("/flaky")) == 3
    by_size = {d["tree_size"]: d for d in deliveries(client)}
    assert by_size[first.checkpoint.size]["state"] == "delivered" and by_size[first.checkpoint.size]["attempts"] == 2
    assert by_size[second.checkpoint.size]["state"] == "delivered"
    assert sent[by_size[second.checkpoint.size]["id"]]["tree_size"] == second.checkpoint.size
    log_key = notes.parse_verifier_key(client.get("/v1/log/key").text.strip())
    for data in sent.values():
        assert notes.open_checkpoint(data["checkpoint"], [log_key])[0].size == data["tree_size"]


def test_every_teams_opted_in_subscription_gets_them_and_sees_only_its_own(client, box, receiver):
    keys = {team: KeyService(box.engine, box.clock).create("editor", team, f"{team} editor")
            for team in ("alpha", "beta")}
    subs = {}
    for team, key in keys.items():
        response = client.post("/v1/subscriptions", headers={"Authorization": f"Bearer {key}"}, json={
            "name": team, "channel": {"kind": "webhook", "url": receiver.url(f"/{team}")}, "log_checkpoints": True})
        assert response.status_code == 201, response.text
        subs[team] = response.json()
    open_case(client)
    box.log_signing.run(force=True)
    assert drain(box) == 2
    for team, key in keys.items():
        assert len(checkpoints_to(receiver, f"/{team}", subs[team]["secret"])) == 1
        own = client.get("/v1/deliveries", headers={"Authorization": f"Bearer {key}"}).json()["items"]
        assert [d["subscription_id"] for d in own] == [subs[team]["id"]]


@pytest.mark.parametrize("channel", [{"kind": "email", "to": ["keeper@example.org"]},
                                     {"kind": "slack", "url": "https://hooks.slack.com/services/T/B/x"}])
def test_only_a_webhook_can_opt_in(client, channel):
    response = client.post("/v1/subscriptions", json={"name": "keeper", "channel": channel, "log_checkpoints": True})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "log_checkpoints"] and "webhook" in error["msg"]
    assert client.get("/v1/subscriptions").json()["items"] == []


def test_a_stored_opt_in_on_another_channel_sends_nothing(client, box, smtp_inbox):
    """Stored by hand (the API refuses it): no checkpoint is queued for it, so none is ever mailed."""
    inbox, port = smtp_inbox
    box.worker.smtp = SmtpSettings("127.0.0.1", port)
    sub = client.post("/v1/subscriptions", json={"name": "mail", "channel": {"kind": "email",
                                                                            "to": ["keeper@example.org"]}})
    assert sub.status_code == 201, sub.text
    with writing(box.engine) as conn:
        conn.execute(update(subscriptions).values(log_checkpoints=True))
    open_case(client)
    assert box.log_signing.run(force=True) is not None
    drain(box)
    assert [d for d in deliveries(client) if d["kind"] == "checkpoint"] == []
    assert not any("checkpoint" in m.as_string() for m in inbox.messages)


def test_a_checkpoint_signed_before_its_fan_out_ran_reaches_subscribers_at_the_next_run(client, box, receiver):
    """A crash between signing and queueing (or a subscriber opting in after the last checkpoint): the next run
    queues the latest checkpoint once, and later runs add nothing."""
    open_case(client)
    signed = box.log_signing.checkpointer.sign_if_due(force=True)  # signed, but no listener told (the crash)
    late = subscribe(client, receiver.url("/late"), log_checkpoints=True)
    assert box.log_signing.run() is None  # nothing new to sign
    box.log_signing.run()
    drain(box)
    got = checkpoints_to(receiver, "/late", late["secret"])
    assert [payload["data"]["tree_size"] for payload, _ in got] == [signed.checkpoint.size]
