"""The SSRF guard: internal targets refused when a subscription is made, and again at send time."""
from __future__ import annotations

import pytest

from notifications import ssrf
from notifications.ssrf import blocked_reason

from .helpers.delivery import REMOVED, append, clock, drain, open_case  # noqa: F401 - clock: real-now fixture


@pytest.fixture
def db_url(sqlite_url):
    """The guard does not depend on the database."""
    return sqlite_url


@pytest.fixture
def guarded(box):
    box.settings.webhook_allow_private_networks = False
    box.worker.allow_private_networks = False
    return box


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
    ("192.168.1.10", "private"), ("169.254.169.254", "link-local (cloud metadata)"),
    ("fe80::1", "link-local (cloud metadata)"), ("fd00:ec2::254", "private"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"), ("0.0.0.0", "private"), ("224.0.0.1", "multicast"), ("100.64.0.1", "non-public"), ("192.0.2.1", "private"),
    ("93.184.216.34", None), ("2606:2800:220:1:248:1893:25c8:1946", None),
])
def test_address_classes(address, reason):
    assert blocked_reason(address) == reason


@pytest.mark.parametrize("channel, loc", [
    ({"kind": "webhook", "url": "http://127.0.0.1:9/hook"}, ["body", "channel", "url"]),
    ({"kind": "slack", "url": "http://localhost/services/x"}, ["body", "channel", "url"]),
    ({"kind": "webhook", "url": "http://169.254.169.254/latest/meta-data"}, ["body", "channel", "url"]),
    ({"kind": "webhook", "url": "http://[::1]:8080/"}, ["body", "channel", "url"]),
    ({"kind": "matrix", "homeserver": "http://10.0.0.5", "room_id": "!r:x.org", "access_token": "t"},
     ["body", "channel", "homeserver"]),
    ({"kind": "telegram", "bot_token": "1:a", "chat_id": "1", "api_base": "http://192.168.0.1"},
     ["body", "channel", "api_base"]),
    ({"kind": "webhook", "url": "http://no-such-host.invalid/"}, ["body", "channel", "url"]),
])
def test_internal_targets_are_refused_at_subscription_time(client, guarded, channel, loc):
    response = client.post("/v1/subscriptions", json={"name": "x", "channel": channel})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc, response.text
    assert client.get("/v1/subscriptions").json()["items"] == []


def test_escalation_target_is_checked_too(client, guarded, monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.216.34"] if host == "public.test" else
                        ["169.254.169.254"])
    response = client.post("/v1/subscriptions", json={
        "name": "x", "channel": {"kind": "webhook", "url": "https://public.test/h"}, "escalate_after": "PT1H",
        "escalate_to": {"kind": "webhook", "url": "http://metadata.test/"}})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "escalate_to", "url"]


def test_a_name_that_moves_to_an_internal_address_is_refused_at_send_time(client, guarded, monkeypatch):
    answers = {"rebind.test": ["93.184.216.34"]}
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: answers[host])
    response = client.post("/v1/subscriptions", json={"name": "x", "channel": {"kind": "webhook",
                                                      "url": "https://rebind.test/hook"},
                                                      "filter": {"event_types": ["Removed"]}})
    assert response.status_code == 201
    answers["rebind.test"] = ["127.0.0.1"]  # the DNS record now points inside
    append(client, open_case(client), "Removed", REMOVED)
    drain(guarded)
    [delivery] = client.get("/v1/deliveries").json()["items"]
    assert delivery["state"] == "dead" and "loopback" in delivery["last_error"]


def test_redirects_are_never_followed(client, box):
    from ..receiver import Receiver

    with Receiver() as receiver:
        receiver.script("/hook", (302, {"Location": receiver.url("/internal")}))
        client.post("/v1/subscriptions", json={"name": "x", "channel": {"kind": "webhook", "url": receiver.url("/hook")},
                                               "filter": {"event_types": ["Removed"]}})
        append(client, open_case(client), "Removed", REMOVED)
        drain(box)
        assert receiver.at("/internal") == [] and len(receiver.at("/hook")) == 1
    [delivery] = client.get("/v1/deliveries").json()["items"]
    # A redirect would be refused again: dead at once, not retried for a day (Alertmanager retries only 5xx).
    assert delivery["state"] == "dead" and delivery["last_error"] == "HTTP 302: redirects are not followed; not retried"
    assert delivery["attempts"] == 1 and delivery["next_attempt_at"] is None
