"""Acknowledging from a message's link: from a real email (aiosmtpd) and a real webhook receiver, GET changes
nothing, POST acknowledges and stops escalation; expired, altered, reused and cross-site attempts change nothing."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from notifications import ack_tokens
from notifications.channels.email import SmtpSettings
from service.access import SYSTEM

from .helpers.delivery import REMOVED, append, clock, drain, open_case, subscribe  # noqa: F401 - clock: a fixture
from .test_channels import CHAT, _deliver_to

LINK = re.compile(r"https?://[^\s\"'<>]+/ack/[A-Za-z0-9._-]+")


def alert_of(client, case_id) -> dict:
    [alert] = client.get("/v1/alerts", params={"case_id": case_id, "state": "all"}).json()["items"]
    return alert


def escalating_webhook(client, receiver) -> dict:
    return subscribe(client, receiver.url("/hook"), escalate_after="PT30M",
                     escalate_to={"kind": "webhook", "url": receiver.url("/escalation")})


def webhook_link(client, box, receiver) -> tuple[str, str, dict]:
    """A removal's alert sent to a webhook subscription that escalates: (the case, the ack link's path, the sub)."""
    sub = escalating_webhook(client, receiver)
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    drain(box)
    [payload] = [json.loads(r.body) for r in receiver.at("/hook")]
    url = payload["data"]["ack_url"]
    assert url.startswith(box.settings.public_url.rstrip("/") + "/ack/")
    return case_id, urlsplit(url).path, sub


def confirm(browser, path: str, **headers):
    return browser.post(path, data={"token": path.rsplit("/", 1)[1]}, headers=headers)


def test_from_a_webhook_get_changes_nothing_and_the_button_acknowledges_and_stops_escalation(client, box, receiver,
                                                                                          browser, clock):
    case_id, path, sub = webhook_link(client, box, receiver)
    other_case = open_case(client)  # left open: it escalates, so the check below could fail
    append(client, other_case, "Removed", REMOVED)
    drain(box)
    for _ in range(3):  # a mail scanner, a link preview, the person
        shown = browser.get(path)
        assert shown.status_code == 200
        assert "Removed (deported) to UZ" in shown.text and 'name="token"' in shown.text
        assert "Delivery Person" not in shown.text
    assert alert_of(client, case_id)["state"] == "open"
    assert not [e for e in client.get("/v1/access-log").json()["items"] if e["action"] == "acknowledge"]

    done = confirm(browser, path)
    assert done.status_code == 200 and "Acknowledged" in done.text
    alert = alert_of(client, case_id)
    assert alert["state"] == "acknowledged" and alert["acknowledged_by"] == f"subscription:{sub['id']}"
    assert alert["acknowledged_via"] == "webhook link, subscription 'team'"
    [entry] = [e for e in client.get("/v1/access-log").json()["items"] if e["action"] == "acknowledge"]
    assert entry["actor"] == f"subscription:{sub['id']}" and entry["case_id"] == case_id
    assert entry["path"] == "/ack"  # the token itself is never logged

    clock.advance(timedelta(minutes=31))
    assert box.worker.escalate_due(clock.now()) == 1  # the other case's alert only
    drain(box)
    assert [json.loads(r.body)["data"]["case_id"] for r in receiver.at("/escalation")] == [other_case]


def test_from_a_real_email_text_and_html_carry_the_same_link(client, box, browser, smtp_inbox):
    inbox, port = smtp_inbox
    box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", port, "alerts@vigil.example")
    sub = client.post("/v1/subscriptions", json={"name": "FR desk", "channel": {"kind": "email",
                                                                                 "to": ["desk@ngo.example"]},
                                                 "filter": {"event_types": ["Removed"]}}).json()
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    drain(box)
    [mail] = inbox.messages
    [in_text] = LINK.findall(mail.get_body(("plain",)).get_content())
    [in_html] = LINK.findall(mail.get_body(("html",)).get_content())
    assert in_text == in_html
    path = urlsplit(in_text).path
    assert browser.get(path).status_code == 200 and alert_of(client, case_id)["state"] == "open"
    assert confirm(browser, path).status_code == 200
    alert = alert_of(client, case_id)
    assert alert["state"] == "acknowledged" and alert["acknowledged_by"] == f"subscription:{sub['id']}"
    assert alert["acknowledged_via"] == "email link, subscription 'FR desk'"


def test_a_reused_link_gets_a_clear_page_and_changes_nothing(client, box, receiver, browser):
    case_id, path, _ = webhook_link(client, box, receiver)
    assert confirm(browser, path).status_code == 200
    first = alert_of(client, case_id)
    again = confirm(browser, path)
    assert again.status_code == 409 and "already acknowledged" in again.text
    assert browser.get(path).status_code == 409
    assert alert_of(client, case_id) == first
    assert len([e for e in client.get("/v1/access-log").json()["items"] if e["action"] == "acknowledge"]) == 1


def test_an_expired_link_changes_nothing(client, box, receiver, browser, clock):
    case_id, path, _ = webhook_link(client, box, receiver)
    raised = alert_of(client, case_id)["raised_at"]
    clock.advance(ack_tokens.LIFETIME - timedelta(minutes=1))
    assert browser.get(path).status_code == 200  # a week less a minute after the alert: still good
    clock.advance(timedelta(minutes=1))
    for answer in (browser.get(path), confirm(browser, path)):
        assert answer.status_code == 410 and "expired" in answer.text
    assert alert_of(client, case_id)["state"] == "open" and alert_of(client, case_id)["raised_at"] == raised


def test_altered_links_change_nothing(client, box, receiver, browser):
    case_id, path, _ = webhook_link(client, box, receiver)
    token = path.rsplit("/", 1)[1]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_alert = token.replace(token.split(".")[1], "00000000-0000-4000-8000-000000000000")
    for bad in (altered, other_alert, "a1.x", "%00"):
        assert browser.get(f"/ack/{bad}").status_code == 404
        assert browser.post(f"/ack/{bad}", data={"token": bad}).status_code == 404
    assert alert_of(client, case_id)["state"] == "open"


def test_an_address_guessing_tokens_is_throttled(client, box, receiver, browser):
    case_id, path, _ = webhook_link(client, box, receiver)
    box.auth_throttle.limit = 2
    for _ in range(3):  # the third wrong token is past the limit
        assert browser.get(path + "x").status_code == 404
    refused = browser.get(path)  # even the right link waits now: the address is guessing
    assert refused.status_code == 429 and refused.headers["retry-after"]
    # the API shares the address here (both clients are "testclient"): ask the service itself
    assert box.alerts.list_alerts(SYSTEM, case_id=case_id)[0]["state"] == "open"


def test_every_request_counts_against_the_address_rate(client, box, receiver, browser):
    from service.rate_limit import RateLimiter

    case_id, path, _ = webhook_link(client, box, receiver)
    box.rate_limiter = RateLimiter(2, now=lambda: 0.0)
    assert browser.get(path).status_code == 200 and browser.get(path).status_code == 200
    assert confirm(browser, path).status_code == 429
    assert alert_of(client, case_id)["state"] == "open"


@pytest.mark.parametrize("headers, form", [
    ({"origin": "https://evil.example"}, True),
    ({"origin": "null", "sec-fetch-site": "cross-site"}, True),
    ({"origin": "http://testserver", "sec-fetch-site": "same-site"}, True),  # a sibling subdomain
    ({"sec-fetch-site": "cross-site"}, True),
    ({}, False),  # a bare POST to the link (no token in the form) does nothing
])
def test_a_post_from_another_site_or_without_the_form_changes_nothing(client, box, receiver, browser, headers, form):
    case_id, path, _ = webhook_link(client, box, receiver)
    data = {"token": path.rsplit("/", 1)[1]} if form else {}
    assert browser.post(path, data=data, headers=headers).status_code == 403
    assert alert_of(client, case_id)["state"] == "open"
    # Chromium's own form on our no-referrer page: Origin null, Sec-Fetch-Site same-origin
    assert confirm(browser, path, origin="null", **{"sec-fetch-site": "same-origin"}).status_code == 200


def test_a_deleted_subscriptions_links_stop_working(client, box, receiver, browser):
    case_id, path, sub = webhook_link(client, box, receiver)
    assert client.delete(f"/v1/subscriptions/{sub['id']}").status_code == 204
    assert confirm(browser, path).status_code == 410
    assert alert_of(client, case_id)["state"] == "open"


def page_of(answer, path: str) -> str:
    """The page without its own link's path (its language form returns there) or the server's time, which the clock
    moves on between two requests."""
    return re.sub(r'data-server-now="[^"]*"', "", answer.text.replace(path, "/ack/…"))


def test_a_disabled_subscriptions_links_are_refused_like_a_deleted_ones_and_record_nothing(client, box, receiver,
                                                                                          browser):
    disabled = subscribe(client, receiver.url("/gone"))
    deleted = subscribe(client, receiver.url("/deleted"))
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    drain(box)
    [gone_path, deleted_path] = [urlsplit(json.loads(receiver.at(at)[0].body)["data"]["ack_url"]).path
                                 for at in ("/gone", "/deleted")]
    receiver.script("/gone", 410)  # disabled as in production: its channel's next delivery answers 410 Gone
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    assert client.get(f"/v1/subscriptions/{disabled['id']}").json()["disabled"] is True
    assert client.delete(f"/v1/subscriptions/{deleted['id']}").status_code == 204
    for answer, like in ((browser.get(gone_path), browser.get(deleted_path)),
                         (confirm(browser, gone_path), confirm(browser, deleted_path))):
        assert answer.status_code == like.status_code == 410
        assert page_of(answer, gone_path) == page_of(like, deleted_path) and "deleted or disabled, so its links no longer work" in answer.text
    assert "supprimé ou désactivé" in browser.get(gone_path, headers={"accept-language": "fr"}).text
    alert_id = alert_of(client, case_id)["id"]  # disabled after its link was read: the write itself still refuses
    never = box.ack_links.repository.acknowledge_open(alert_id, disabled["id"], box.clock.now(), "x", None,
                                                      lambda conn: pytest.fail("logged a refused acknowledgement"))
    assert never is False
    # The same for a chat button whose subscription was read as live just before it was disabled.
    assert box.ack_links.repository.acknowledge_via(alert_id, disabled["id"], lambda case: True, box.clock.now(),
                                                    "x", "slack") is None
    assert alert_of(client, case_id)["state"] == "open"
    assert not [e for e in client.get("/v1/access-log").json()["items"] if e["action"] == "acknowledge"]


def test_a_withdrawn_alert_cannot_be_acknowledged_and_its_notice_has_no_link(client, box, receiver, browser):
    subscribe(client, receiver.url("/hook"))
    case_id = open_case(client)
    removed = append(client, case_id, "Removed", REMOVED)
    drain(box)
    path = urlsplit(json.loads(receiver.at("/hook")[0].body)["data"]["ack_url"]).path
    append(client, case_id, "EventRetracted", {"event_id": removed["event_id"], "reason": "misreported"})
    drain(box)
    withdrawn = json.loads(receiver.at("/hook")[1].body)
    assert withdrawn["type"] == "alert.withdrawn" and withdrawn["data"]["ack_url"] is None
    assert confirm(browser, path).status_code == 409
    assert alert_of(client, case_id)["state"] == "withdrawn"


def test_the_escalation_carries_a_link_of_its_own_channel(client, box, receiver, browser, clock):
    case_id, _, sub = webhook_link(client, box, receiver)
    clock.advance(timedelta(minutes=31))
    assert box.worker.escalate_due(clock.now()) == 1
    drain(box)
    [escalated] = [json.loads(r.body) for r in receiver.at("/escalation")]
    path = urlsplit(escalated["data"]["ack_url"]).path
    assert confirm(browser, path).status_code == 200
    assert alert_of(client, case_id)["acknowledged_by"] == f"subscription:{sub['id']}"


def test_a_test_message_has_no_link(client, box, receiver):
    sub = subscribe(client, receiver.url("/hook"))
    assert client.post(f"/v1/subscriptions/{sub['id']}/test").status_code == 200
    [sent] = [json.loads(r.body) for r in receiver.at("/hook")]
    assert sent["type"] == "test" and sent["data"]["ack_url"] is None


@pytest.mark.parametrize("kind", sorted(CHAT))
def test_every_chat_channel_carries_the_link_bound_to_its_subscription(client, box, kind):
    request, case_id = _deliver_to(client, box, kind)
    [link] = set(LINK.findall(request.content.decode()))
    [sub] = client.get("/v1/subscriptions").json()["items"]
    grant = ack_tokens.verify(box.worker.ack_key, urlsplit(link).path.rsplit("/", 1)[1], box.clock.now())
    assert (grant.subscription_id, grant.channel_kind) == (sub["id"], kind)
    assert grant.alert_id == alert_of(client, case_id)["id"]


def test_the_page_and_the_dashboards_via_are_in_the_readers_language(client, box, receiver, browser):
    case_id, path, _ = webhook_link(client, box, receiver)
    shown = browser.get(path, headers={"accept-language": "ru"})
    assert shown.status_code == 200 and "Подтвердить это оповещение?" in shown.text
    done = browser.post(path, data={"token": path.rsplit("/", 1)[1]}, headers={"accept-language": "tr"})
    assert "Uyarı onaylandı" in done.text
    again = browser.get(path, headers={"accept-language": "fr"})
    assert again.status_code == 409 and "La réception de cette alerte a déjà été accusée" in again.text
    inbox = client.get("/alerts", params={"state": "acknowledged"}, headers={"accept-language": "fr"})
    assert "via lien webhook, abonnement « team »" in inbox.text
    case_page = client.get(f"/cases/{case_id}", headers={"accept-language": "ru"})
    assert "через ссылку (webhook), подписка «team»" in case_page.text


def test_the_request_log_never_shows_an_acknowledge_token(client, box, receiver, browser, caplog):
    _, path, _ = webhook_link(client, box, receiver)
    with caplog.at_level("INFO", logger="vigil.requests"):
        browser.get(path)
        confirm(browser, path)
    logged = [r.getMessage() for r in caplog.records if r.name == "vigil.requests"]
    assert "GET /ack/… 200" in logged[0] and "POST /ack/… 200" in logged[1]
    assert not any(path.rsplit("/", 1)[1] in line for line in logged)
