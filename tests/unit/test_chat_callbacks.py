"""Slack's request signature and button payloads, Telegram's updates and button data: pure checks, no server."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from notifications.channels.slack import ack_value, parse_ack_value
from notifications.channels.telegram import TelegramChannel, ack_data, parse_ack_data
from service.integrations import slack, telegram

# The example in Slack's "Verifying requests from Slack" (a slash command's body).
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMESTAMP = "1531420618"
BODY = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
        b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
        b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
SIGNED = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
SENT = datetime.fromtimestamp(int(TIMESTAMP), timezone.utc)
ALERT, SUB = "0b4c7a52-6a4e-4c53-9d2a-0d7c8c7d2a11", "5f0e8f1e-8a55-4e57-bb32-3e0f9d1c7c22"


def test_slack_signature_is_the_documented_one():
    assert slack.signature(SECRET, TIMESTAMP, BODY) == SIGNED
    assert slack.refusal([SECRET], TIMESTAMP, SIGNED, BODY, SENT + timedelta(minutes=4, seconds=59)) is None
    assert slack.refusal(["other", SECRET], TIMESTAMP, SIGNED, BODY, SENT) is None  # any of the secrets


@pytest.mark.parametrize("secrets, timestamp, signed, body, now, says", [
    ([SECRET], TIMESTAMP, SIGNED, BODY + b"&x=1", SENT, "does not match"),
    (["wrong"], TIMESTAMP, SIGNED, BODY, SENT, "does not match"),
    ([], TIMESTAMP, SIGNED, BODY, SENT, "does not match"),
    ([SECRET], TIMESTAMP, SIGNED, BODY, SENT + timedelta(minutes=5, seconds=1), "five minutes"),
    ([SECRET], TIMESTAMP, SIGNED, BODY, SENT - timedelta(minutes=5, seconds=1), "five minutes"),
    ([SECRET], None, SIGNED, BODY, SENT, "missing"),
    ([SECRET], TIMESTAMP, None, BODY, SENT, "missing"),
    ([SECRET], "soon", SIGNED, BODY, SENT, "not a number"),
    ([SECRET], TIMESTAMP, "v0=ünïcode", BODY, SENT, "does not match"),
])
def test_slack_refusals(secrets, timestamp, signed, body, now, says):
    assert says in slack.refusal(secrets, timestamp, signed, body, now)


def _form(payload) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_a_click_is_parsed_from_the_form_payload():
    body = _form({"type": "block_actions", "user": {"id": "U2CERLKJA", "username": "roadrunner"},
                  "response_url": "https://hooks.slack.com/actions/T1/2/x",
                  "message": {"blocks": [{"type": "section"}, {"type": "actions"}]},
                  "actions": [{"action_id": "vigil_acknowledge", "value": ack_value(ALERT, SUB)}]})
    click = slack.parse_click(body)
    assert (click.alert_id, click.subscription_id, click.user_id, click.user_name) == (ALERT, SUB, "U2CERLKJA",
                                                                                       "roadrunner")
    update = slack.acknowledged_message(click, "Acknowledged by <@U2CERLKJA>")
    assert update["replace_original"] is True
    assert [b["type"] for b in update["blocks"]] == ["section", "context"]  # the button is gone


@pytest.mark.parametrize("body", [
    b"", b"payload=", b"payload=%7B", _form([]), _form({"type": "view_submission"}),
    _form({"type": "block_actions", "actions": "x"}),
    _form({"type": "block_actions", "actions": [{"action_id": "other", "value": ack_value(ALERT, SUB)}]}),
    _form({"type": "block_actions", "actions": [{"action_id": "vigil_acknowledge", "value": f"ack:{ALERT}"}]}),
    _form({"type": "block_actions", "actions": [{"action_id": "vigil_acknowledge", "value": 7}]}),
    b"\xff\xfe",
])
def test_anything_else_is_no_click(body):
    assert slack.parse_click(body) is None


def test_button_values_carry_ids_only():
    assert parse_ack_value(ack_value(ALERT, SUB)) == (ALERT, SUB)
    assert len(ack_data(ALERT).encode()) <= 64 and parse_ack_data(ack_data(ALERT)) == ALERT
    assert parse_ack_data("ack:../x") is None and parse_ack_value(None) is None


def _channel(secret):
    return TelegramChannel(kind="telegram", bot_token="1:a", chat_id="1", webhook_secret=secret)


def test_the_telegram_secret_header_must_match_one_channel():
    first, second = _channel("a" * 32), _channel("b" * 32)
    assert telegram.matching([first, second], "b" * 32) is second
    assert telegram.matching([first], "b" * 32) is None
    assert telegram.matching([first], None) is None and telegram.matching([first], "") is None
    assert telegram.matching([_channel(None)], "") is None


def test_a_telegram_callback_update_is_parsed():
    body = json.dumps({"update_id": 7, "callback_query": {
        "id": "q1", "from": {"id": 42, "first_name": "Ana", "username": "ana"}, "data": ack_data(ALERT),
        "message": {"message_id": 9, "chat": {"id": -1001}}}}).encode()
    callback = telegram.parse_update(body)
    assert (callback.update_id, callback.query_id, callback.alert_id, callback.chat_id, callback.message_id,
            callback.user_name) == (7, "q1", ALERT, -1001, 9, "@ana")
    assert telegram.parse_update(b'{"update_id": 8, "message": {"text": "hi"}}') is None


@pytest.mark.parametrize("body, field", [
    (b"nope", "body"), (b"[]", "body"), (b'{"update_id": "7"}', "update_id"), (b'{"update_id": true}', "update_id"),
    (b'{"update_id": -1}', "update_id"), (b'{"update_id": 1, "callback_query": {"id": 5}}', "callback_query.id"),
])
def test_a_malformed_update_names_its_field(body, field):
    with pytest.raises(telegram.NotAnUpdate) as raised:
        telegram.parse_update(body)
    assert raised.value.field == field


def test_the_webhook_secret_is_what_telegram_accepts():
    with pytest.raises(ValueError):
        _channel("short")
    with pytest.raises(ValueError):
        _channel("x" * 20 + " y")
