"""Every channel kind: email through a real SMTP server, chat services (which cannot run here) through respx."""
from __future__ import annotations

import json

import httpx
import pytest
import respx
from aiosmtpd.controller import Controller

from notifications.channels.email import SmtpSettings
from notifications.http_sender import HttpxSender

from .helpers.delivery import REMOVED, append, clock, drain, open_case  # noqa: F401 - clock: real-now fixture
from .helpers.smtp import Inbox


@pytest.fixture
def db_url(sqlite_url):
    """Rendering and sending do not depend on the database: these run on SQLite."""
    return sqlite_url


def test_email_is_multipart_text_and_html(client, box, smtp_inbox):
    inbox, port = smtp_inbox
    box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", port, "alerts@vigil.example")
    response = client.post("/v1/subscriptions", json={"name": "mail", "channel": {"kind": "email",
                                                      "to": ["desk@ngo.example", "lawyer@ngo.example"]}})
    assert response.status_code == 201
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    drain(box)
    subjects = [m["Subject"] for m in inbox.messages]
    assert "[Vigil critical] Alert: Removed (deported) to UZ" in subjects
    message = next(m for m in inbox.messages if "Removed" in m["Subject"])
    assert message["To"] == "desk@ngo.example, lawyer@ngo.example" and message.is_multipart()
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"/cases/{case_id}" in text and f'href="http://127.0.0.1:8000/cases/{case_id}"' in html
    assert "Delivery Person" not in message.as_string()


def test_email_to_a_server_that_is_down_is_retried(client, box):
    box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", 1, "alerts@vigil.example", timeout=2)
    client.post("/v1/subscriptions", json={"name": "mail", "channel": {"kind": "email", "to": ["a@ngo.example"]},
                                           "filter": {"event_types": ["Removed"]}})
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [delivery] = client.get("/v1/deliveries").json()["items"]
    assert delivery["state"] == "failed" and "ConnectionRefused" in delivery["last_error"]


@pytest.mark.parametrize("replies, state", [
    (("550 5.1.1 no such mailbox", "553 5.1.3 bad address"), "dead"),
    (("450 4.2.0 greylisted", "550 5.1.1 no such mailbox"), "failed"),
])
def test_email_refused_for_every_recipient_is_dead_only_when_every_refusal_is_permanent(client, box, smtp_inbox,
                                                                                        replies, state):
    inbox, port = smtp_inbox
    inbox.refuse = dict(zip(("gone@ngo.example", "other@ngo.example"), replies))
    box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", port, "alerts@vigil.example")
    client.post("/v1/subscriptions", json={"name": "mail", "filter": {"event_types": ["Removed"]}, "channel": {
        "kind": "email", "to": ["gone@ngo.example", "other@ngo.example"]}})
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [delivery] = client.get("/v1/deliveries").json()["items"]
    codes = ", ".join(sorted(reply[:3] for reply in replies))
    assert delivery["state"] == state and delivery["last_error"].startswith(f"SMTP refused every recipient ({codes})")
    assert inbox.messages == []


CHAT = {
    "slack": {"kind": "slack", "url": "https://hooks.slack.com/services/T000/B000/XXXX"},
    "mattermost": {"kind": "mattermost", "url": "https://chat.ngo.example/hooks/abc123"},
    "teams": {"kind": "teams", "url": "https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual"},
    "discord": {"kind": "discord", "url": "https://discord.com/api/webhooks/123/tok"},
    "matrix": {"kind": "matrix", "homeserver": "https://matrix.ngo.example", "room_id": "!room:ngo.example",
               "access_token": "syt_secret"},
    "telegram": {"kind": "telegram", "bot_token": "123:ABC", "chat_id": "-1001"},
}


def _deliver_to(client, box, kind, status=200) -> tuple[httpx.Request, str]:
    client.post("/v1/subscriptions", json={"name": kind, "channel": CHAT[kind], "filter": {"event_types": ["Removed"]}})
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    box.worker.sender = HttpxSender()  # respx mocks httpx: the services themselves cannot run here
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.route(host__regex=r".*").respond(status)
        drain(box)
    assert route.call_count == 1
    return route.calls.last.request, case_id


def test_slack_payload(client, box):
    request, case_id = _deliver_to(client, box, "slack")
    body = json.loads(request.content)
    assert request.url == CHAT["slack"]["url"] and set(body) == {"text", "blocks"}
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "Alert [critical]"}}
    section = body["blocks"][1]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert f"<http://127.0.0.1:8000/cases/{case_id}|{case_id}>" in section["text"]["text"]


def test_mattermost_payload(client, box):
    request, case_id = _deliver_to(client, box, "mattermost")
    body = json.loads(request.content)
    assert set(body) == {"text", "attachments"} and body["attachments"][0]["color"] == "#D00000"
    assert f"[{case_id}](http://127.0.0.1:8000/cases/{case_id})" in body["text"]


def test_teams_payload_and_202(client, box):
    request, case_id = _deliver_to(client, box, "teams", status=202)
    body = json.loads(request.content)
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["actions"][0]["url"].endswith(case_id)
    assert client.get("/v1/deliveries").json()["items"][0]["state"] == "delivered"


def test_discord_payload_never_mentions(client, box):
    request, _ = _deliver_to(client, box, "discord")
    body = json.loads(request.content)
    assert body["allowed_mentions"] == {"parse": []} and len(body["content"]) <= 2000
    assert body["embeds"][0]["color"] == 0xD00000


def test_matrix_put_uses_delivery_id_as_transaction(client, box):
    request, _ = _deliver_to(client, box, "matrix")
    [delivery] = client.get("/v1/deliveries").json()["items"]
    assert request.method == "PUT"
    assert request.url.path == f"/_matrix/client/v3/rooms/!room:ngo.example/send/m.room.message/{delivery['id']}"
    assert request.headers["authorization"] == "Bearer syt_secret"
    body = json.loads(request.content)
    assert body["msgtype"] == "m.text" and body["format"] == "org.matrix.custom.html"


def test_telegram_payload_escapes_html(client, box):
    request, _ = _deliver_to(client, box, "telegram")
    assert str(request.url) == "https://api.telegram.org/bot123:ABC/sendMessage"
    body = json.loads(request.content)
    assert body["chat_id"] == "-1001" and body["parse_mode"] == "HTML" and len(body["text"]) <= 4096


def test_user_text_is_escaped_for_each_markup():
    from datetime import datetime, timezone

    from notifications.channels import render
    from notifications.channels.discord import DiscordChannel
    from notifications.channels.slack import SlackChannel
    from notifications.channels.telegram import TelegramChannel
    from notifications.message import sample_message
    from dataclasses import replace

    hostile = replace(sample_message(), title="<script>@everyone *bold* & <b>x</b>", person_name="<i>n</i>")
    now = datetime.now(timezone.utc)
    slack = render(SlackChannel(kind="slack", url="https://h.example/x"), hostile, "", now, SmtpSettings()).json()
    assert "<script>" not in slack["blocks"][1]["text"]["text"] and "&lt;script&gt;" in slack["blocks"][1]["text"]["text"]
    telegram = render(TelegramChannel(kind="telegram", bot_token="1:a", chat_id="1"), hostile, "", now,
                      SmtpSettings()).json()
    assert "<b>x</b>" not in telegram["text"] and "&lt;b&gt;x&lt;/b&gt;" in telegram["text"]
    discord = render(DiscordChannel(kind="discord", url="https://d.example/x"), hostile, "", now,
                     SmtpSettings()).json()
    assert "\\*bold\\*" in discord["embeds"][0]["description"] and "\\@everyone" in discord["content"]


def test_email_with_smtp_auth(client, box):
    import socket

    from aiosmtpd.smtp import AuthResult, LoginPassword

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox, logins = Inbox(), []

    def authenticator(server, session, envelope, mechanism, data):
        logins.append((mechanism, data.login, data.password) if isinstance(data, LoginPassword) else mechanism)
        return AuthResult(success=isinstance(data, LoginPassword) and data.password == b"s3cret")

    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", port, "alerts@vigil.example", "desk", "s3cret")
        client.post("/v1/subscriptions", json={"name": "mail", "channel": {"kind": "email", "to": ["a@ngo.example"]},
                                               "filter": {"event_types": ["Removed"]}})
        append(client, open_case(client), "Removed", REMOVED)
        drain(box)
        assert len(inbox.messages) == 1 and logins and logins[0][1:] == (b"desk", b"s3cret")
        box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", port, "alerts@vigil.example", "desk", "wrong",
                                                  timeout=3)
        append(client, open_case(client), "Removed", REMOVED)
        drain(box)
        failed = [d for d in client.get("/v1/deliveries").json()["items"] if d["state"] == "failed"]
        # The refusal (a 535, or this server hanging up) is recorded and retried; nothing was accepted.
        assert len(failed) == 1 and failed[0]["last_error"] and len(inbox.messages) == 1
    finally:
        controller.stop()


@pytest.mark.parametrize("body, where", [
    ({"channel": {"kind": "email", "to": ["a@ngo.example"]}}, "channel"),
    ({"channel": {"kind": "webhook", "url": "https://ngo.example/hook"}, "escalate_after": "PT1H",
      "escalate_to": {"kind": "email", "to": ["a@ngo.example"]}}, "escalate_to"),
])
def test_email_subscriptions_are_refused_without_an_smtp_server(client, box, body, where):
    assert box.settings.smtp_host is None and box.smtp.host is None  # the default: no SMTP server configured
    response = client.post("/v1/subscriptions", json={"name": "mail", **body})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", where, "kind"], "msg": "email needs VIGIL_SMTP_HOST set",
                                          "type": "channel_unavailable"}]
    assert client.get("/v1/subscriptions").json()["items"] == []
    box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", 2525)
    assert client.post("/v1/subscriptions", json={"name": "mail", **body}).status_code == 201


def test_an_email_subscription_left_without_smtp_is_retried_not_crashed(client, box):
    box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", 2525)
    sub = client.post("/v1/subscriptions", json={"name": "mail", "channel": {"kind": "email",
                                                                             "to": ["a@ngo.example"]}}).json()
    box.smtp = box.worker.smtp = SmtpSettings()  # SMTP unset since (a restart without VIGIL_SMTP_HOST)
    tested = client.post(f"/v1/subscriptions/{sub['id']}/test")
    assert tested.status_code == 200
    assert tested.json()["state"] == "failed" and "set VIGIL_SMTP_HOST" in tested.json()["last_error"]
