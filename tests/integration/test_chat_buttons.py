"""Acknowledge from Slack and Telegram buttons: real local receivers stand in for Slack's response_url and the
Telegram Bot API; the clicks are signed (or not) as Slack and Telegram sign them."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from notifications.tables import chat_callbacks_seen as seen_callbacks
from service.integrations.slack import signature
from service.keys import KeyService

from .helpers.delivery import REMOVED, clock, drain  # noqa: F401 - clock: a manual clock at the real now

SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
HOOK_SECRET = "tg_webhook_secret_0123456789abcdef"


@pytest.fixture
def settings(settings, receiver):
    """Slack's response_url is a local receiver's here."""
    return settings.model_copy(update={"slack_response_base": receiver.url("/actions/")})


@pytest.fixture
def keys(box):
    return {team: KeyService(box.engine, box.clock).create("editor", team, f"{team} editor")
            for team in ("alpha", "beta")}


def as_(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def subscribe(client, key, channel: dict, **extra) -> dict:
    response = client.post("/v1/subscriptions", headers=as_(key), json={
        "name": "FR desk", "channel": channel, "filter": {"event_types": ["Removed"]}, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def raise_alert(client, key) -> str:
    case_id = client.post("/v1/cases", headers=as_(key), json={"person": {"name": "Button Person"}, "country": "FR",
                                                                "origin_country": "UZ"}).json()["id"]
    response = client.post(f"/v1/cases/{case_id}/events", headers=as_(key), json={
        "type": "Removed", "occurred_at": client.app.state.container.clock.now().isoformat(), "data": REMOVED})
    assert response.status_code == 201, response.text
    [alert] = client.get("/v1/alerts", headers=as_(key), params={"case_id": case_id}).json()["items"]
    return alert["id"]


def alert(client, key, alert_id) -> dict:
    [found] = [a for a in client.get("/v1/alerts", headers=as_(key), params={"state": "all"}).json()["items"]
               if a["id"] == alert_id]
    return found


# ---- Slack ----

def slack_channel(receiver, **extra) -> dict:
    return {"kind": "slack", "url": receiver.url("/services/T0/B0/hook"), **extra}


def click_body(alert_id, sub_id, receiver, user=None) -> bytes:
    payload = {"type": "block_actions", "user": user or {"id": "U2CERLKJA", "username": "roadrunner"},
               "response_url": receiver.url("/actions/T0/1/respond"),
               "message": {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Alert"}},
                                      {"type": "actions", "elements": []}]},
               "actions": [{"action_id": "vigil_acknowledge", "type": "button",
                            "value": f"ack:{alert_id}:{sub_id}"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_headers(body: bytes, now, secret=SIGNING) -> dict:
    timestamp = str(int(now.timestamp()))
    return {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature(secret, timestamp, body)}


def post_click(client, body, headers):
    return client.post("/integrations/slack/actions", content=body, headers={"Authorization": "", **headers})


@pytest.fixture
def slack_alert(client, box, receiver, keys):
    """An alpha subscription with a signing secret, escalating after 30 minutes, and an alert it was sent."""
    sub = subscribe(client, keys["alpha"], slack_channel(receiver, signing_secret=SIGNING), escalate_after="PT30M",
                    escalate_to={"kind": "webhook", "url": receiver.url("/escalation")})
    alert_id = raise_alert(client, keys["alpha"])
    drain(box)
    return sub, alert_id


def test_the_slack_message_has_a_button_naming_alert_and_subscription_only_with_a_signing_secret(
        client, box, receiver, keys, slack_alert):
    sub, alert_id = slack_alert
    plain = subscribe(client, keys["alpha"], {**slack_channel(receiver), "url": receiver.url("/services/T0/B0/plain")})
    raise_alert(client, keys["alpha"])
    drain(box)
    [with_secret] = [json.loads(r.body) for r in receiver.at("/services/T0/B0/hook")
                     if alert_id in r.body.decode()]
    [actions] = [b for b in with_secret["blocks"] if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["value"] == f"ack:{alert_id}:{sub['id']}" and button["text"]["text"] == "Acknowledge"
    assert "Button Person" not in json.dumps(with_secret)
    [without] = [json.loads(r.body) for r in receiver.at("/services/T0/B0/plain")]
    assert all(b["type"] != "actions" for b in without["blocks"])
    # The signing secret is sealed with the channel and never shown.
    assert SIGNING not in json.dumps(client.get(f"/v1/subscriptions/{sub['id']}", headers=as_(keys["alpha"])).json())
    assert plain["channel"] == {"kind": "slack", "url": f"http://127.0.0.1:{receiver.port}/…"}


def test_a_signed_click_acknowledges_stops_escalation_and_updates_the_message(client, box, clock, receiver, keys,
                                                                            slack_alert):
    sub, alert_id = slack_alert
    body = click_body(alert_id, sub["id"], receiver)
    response = post_click(client, body, signed_headers(body, clock.now()))
    assert response.status_code == 200, response.text
    acked = alert(client, keys["alpha"], alert_id)
    assert acked["state"] == "acknowledged"
    assert acked["acknowledged_by"] == f"subscription:{sub['id']} slack:U2CERLKJA"
    assert acked["acknowledged_via"] == "Slack button, subscription 'FR desk', by roadrunner"
    [update] = receiver.at("/actions/T0/1/respond")
    sent = json.loads(update.body)
    assert sent["replace_original"] is True and sent["text"] == "Acknowledged by <@U2CERLKJA>"
    assert [b["type"] for b in sent["blocks"]] == ["header", "context"]
    clock.advance(timedelta(hours=1))
    assert box.worker.escalate_due(clock.now()) == 0


def _wrong_signature(body, now):
    return signed_headers(body, now, secret="another-apps-secret")


def _stale(body, now):
    return signed_headers(body, now - timedelta(minutes=5, seconds=30))


def _no_signature(body, now):
    headers = signed_headers(body, now)
    del headers["x-slack-signature"]
    return headers


def _no_timestamp(body, now):
    headers = signed_headers(body, now)
    del headers["x-slack-request-timestamp"]
    return headers


def _altered(body, now):
    return signed_headers(body.replace(b"roadrunner", b"coyote"), now)


def _huge_timestamp(body, now):  # too large to become a float: once a 500 for anyone on the internet
    return {**signed_headers(body, now), "x-slack-request-timestamp": "1" + "0" * 400}


@pytest.mark.parametrize("sign", [_wrong_signature, _stale, _no_signature, _no_timestamp, _altered, _huge_timestamp])
def test_an_unsigned_stale_or_altered_click_is_401_and_changes_nothing(client, box, clock, receiver, keys, slack_alert,
                                                                        sign):
    sub, alert_id = slack_alert
    body = click_body(alert_id, sub["id"], receiver)
    response = post_click(client, body, sign(body, clock.now()))
    assert response.status_code == 401 and response.headers["content-type"] == "application/json"
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"
    assert receiver.at("/actions/T0/1/respond") == []
    clock.advance(timedelta(hours=1))
    assert box.worker.escalate_due(clock.now()) == 1  # still open: it escalates


def test_a_click_signed_five_minutes_ago_by_a_clock_moved_on_is_stale(client, clock, receiver, keys, slack_alert):
    sub, alert_id = slack_alert
    body = click_body(alert_id, sub["id"], receiver)
    headers = signed_headers(body, clock.now())
    clock.advance(timedelta(minutes=5, seconds=1))
    assert post_click(client, body, headers).status_code == 401
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"


def test_a_replayed_click_is_refused_and_acts_once(client, box, clock, receiver, keys, slack_alert):
    sub, alert_id = slack_alert
    body = click_body(alert_id, sub["id"], receiver)
    headers = signed_headers(body, clock.now())
    assert post_click(client, body, headers).status_code == 200
    clock.advance(timedelta(seconds=30))
    again = post_click(client, body, headers)
    assert again.status_code == 401 and "replay" in again.json()["detail"]
    assert len(receiver.at("/actions/T0/1/respond")) == 1


def test_a_click_for_an_unknown_alert_is_404(client, clock, receiver, keys, slack_alert):
    sub, alert_id = slack_alert
    body = click_body(str(uuid.uuid4()), sub["id"], receiver)
    assert post_click(client, body, signed_headers(body, clock.now())).status_code == 404
    assert receiver.at("/actions/T0/1/respond") == [] and alert(client, keys["alpha"], alert_id)["state"] == "open"


def test_a_click_naming_another_teams_alert_is_404_and_changes_nothing(client, box, clock, receiver, keys,
                                                                       slack_alert):
    sub, _ = slack_alert
    theirs = raise_alert(client, keys["beta"])
    body = click_body(theirs, sub["id"], receiver)  # signed by alpha's Slack app, naming beta's alert
    assert post_click(client, body, signed_headers(body, clock.now())).status_code == 404
    assert alert(client, keys["beta"], theirs)["state"] == "open"


def test_a_click_naming_a_subscription_without_a_secret_or_none_is_401(client, clock, receiver, keys, slack_alert):
    _, alert_id = slack_alert
    plain = subscribe(client, keys["alpha"], slack_channel(receiver))
    for sub_id in (plain["id"], str(uuid.uuid4())):
        body = click_body(alert_id, sub_id, receiver)
        assert post_click(client, body, signed_headers(body, clock.now())).status_code == 401
    assert post_click(client, b"payload=%7B", signed_headers(b"payload=%7B", clock.now())).status_code == 401
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"


def disable_by_410(client, box, receiver, key, path) -> None:
    """Disabled as in production: the channel's next delivery answers 410 Gone."""
    receiver.script(path, 410)
    raise_alert(client, key)
    drain(box)


def test_a_click_for_a_disabled_subscription_is_401_like_an_unknown_one_and_records_nothing(
        client, box, clock, receiver, keys, slack_alert):
    sub, alert_id = slack_alert
    disable_by_410(client, box, receiver, keys["alpha"], "/services/T0/B0/hook")
    assert client.get(f"/v1/subscriptions/{sub['id']}", headers=as_(keys["alpha"])).json()["disabled"] is True
    body = click_body(alert_id, sub["id"], receiver)
    headers = signed_headers(body, clock.now())
    refused = post_click(client, body, headers)
    unknown_body = click_body(alert_id, str(uuid.uuid4()), receiver)
    unknown = post_click(client, unknown_body, signed_headers(unknown_body, clock.now()))
    assert refused.status_code == unknown.status_code == 401 and refused.json() == unknown.json()
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"
    assert receiver.at("/actions/T0/1/respond") == []
    with box.engine.connect() as conn:  # not even the replay guard remembers it
        assert conn.execute(select(func.count()).select_from(seen_callbacks)).scalar() == 0


def test_a_response_url_elsewhere_is_not_called(client, clock, receiver, keys, slack_alert):
    sub, alert_id = slack_alert
    body = click_body(alert_id, sub["id"], receiver).replace(b"%2Factions%2F", b"%2Felsewhere%2F")
    assert post_click(client, body, signed_headers(body, clock.now())).status_code == 200
    assert alert(client, keys["alpha"], alert_id)["state"] == "acknowledged"
    assert [r.path for r in receiver.received if "elsewhere" in r.path] == []


# ---- Telegram ----

def telegram_channel(receiver, **extra) -> dict:
    return {"kind": "telegram", "bot_token": "123:ABC", "chat_id": "-1001", "api_base": receiver.url(""), **extra}


@pytest.fixture
def telegram_alert(client, box, receiver, keys):
    sub = subscribe(client, keys["alpha"], telegram_channel(receiver, webhook_secret=HOOK_SECRET))
    alert_id = raise_alert(client, keys["alpha"])
    drain(box)
    return sub, alert_id


def update(alert_data, update_id=1) -> dict:
    return {"update_id": update_id, "callback_query": {
        "id": f"query-{update_id}", "from": {"id": 42, "first_name": "Ana", "username": "ana_desk"},
        "message": {"message_id": 9, "chat": {"id": -1001}}, "data": alert_data}}


def post_update(client, sub_id, body, secret=HOOK_SECRET):
    headers = {"Authorization": ""}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return client.post(f"/integrations/telegram/{sub_id}", json=body, headers=headers)


def test_the_telegram_message_has_an_inline_button_only_with_a_webhook_secret(client, box, receiver, keys,
                                                                            telegram_alert):
    sub, alert_id = telegram_alert
    subscribe(client, keys["alpha"], telegram_channel(receiver, bot_token="456:DEF"))
    raise_alert(client, keys["alpha"])
    drain(box)
    [with_secret] = [json.loads(r.body) for r in receiver.at("/bot123:ABC/sendMessage")
                     if alert_id in json.dumps(json.loads(r.body))]
    [[button]] = with_secret["reply_markup"]["inline_keyboard"]
    assert button == {"text": "Acknowledge", "callback_data": f"ack:{alert_id}"}
    assert len(button["callback_data"].encode()) <= 64
    assert all("reply_markup" not in json.loads(r.body) for r in receiver.at("/bot456:DEF/sendMessage"))
    shown = client.get(f"/v1/subscriptions/{sub['id']}", headers=as_(keys["alpha"])).json()
    assert HOOK_SECRET not in json.dumps(shown)


def test_a_button_press_acknowledges_answers_and_edits_the_button(client, box, clock, receiver, keys, telegram_alert):
    sub, alert_id = telegram_alert
    response = post_update(client, sub["id"], update(f"ack:{alert_id}"))
    assert response.status_code == 200, response.text
    acked = alert(client, keys["alpha"], alert_id)
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == f"subscription:{sub['id']} telegram:42"
    assert acked["acknowledged_via"] == "Telegram button, subscription 'FR desk', by @ana_desk"
    [answered] = [json.loads(r.body) for r in receiver.at("/bot123:ABC/answerCallbackQuery")]
    assert answered == {"callback_query_id": "query-1", "text": "Acknowledged by @ana_desk"}
    [edited] = [json.loads(r.body) for r in receiver.at("/bot123:ABC/editMessageReplyMarkup")]
    assert edited["chat_id"] == -1001 and edited["message_id"] == 9
    assert edited["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ Acknowledged by @ana_desk"


@pytest.mark.parametrize("secret", [None, "", "tg_webhook_secret_0123456789abcdeX", HOOK_SECRET[:-1]])
def test_a_wrong_or_missing_secret_token_is_401_and_changes_nothing(client, receiver, keys, telegram_alert, secret):
    sub, alert_id = telegram_alert
    assert post_update(client, sub["id"], update(f"ack:{alert_id}"), secret=secret).status_code == 401
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"
    assert receiver.at("/bot123:ABC/answerCallbackQuery") == []


def test_another_subscriptions_secret_does_not_open_this_one(client, receiver, keys, telegram_alert):
    sub, alert_id = telegram_alert
    other = subscribe(client, keys["alpha"], telegram_channel(receiver, webhook_secret="x" * 40))
    assert post_update(client, sub["id"], update(f"ack:{alert_id}"), secret="x" * 40).status_code == 401
    assert post_update(client, str(uuid.uuid4()), update(f"ack:{alert_id}")).status_code == 401
    assert post_update(client, "n" * 500, update(f"ack:{alert_id}")).status_code == 401
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"
    assert other["id"] != sub["id"]


def test_a_replayed_update_is_refused_and_acts_once(client, receiver, keys, telegram_alert):
    sub, alert_id = telegram_alert
    assert post_update(client, sub["id"], update(f"ack:{alert_id}", 5)).status_code == 200
    again = post_update(client, sub["id"], update(f"ack:{alert_id}", 5))
    assert again.status_code == 401 and "replay" in again.json()["detail"]
    assert len(receiver.at("/bot123:ABC/answerCallbackQuery")) == 1


def test_an_unknown_or_other_teams_alert_is_404_and_changes_nothing(client, receiver, keys, telegram_alert):
    sub, alert_id = telegram_alert
    theirs = raise_alert(client, keys["beta"])
    assert post_update(client, sub["id"], update(f"ack:{uuid.uuid4()}", 1)).status_code == 404
    assert post_update(client, sub["id"], update(f"ack:{theirs}", 2)).status_code == 404
    assert post_update(client, sub["id"], update("something else", 3)).status_code == 404
    assert alert(client, keys["beta"], theirs)["state"] == "open"
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"
    assert receiver.at("/bot123:ABC/answerCallbackQuery") == []


def test_a_press_for_a_disabled_subscription_is_401_like_an_unknown_one_and_records_nothing(
        client, box, receiver, keys, telegram_alert):
    sub, alert_id = telegram_alert
    disable_by_410(client, box, receiver, keys["alpha"], "/bot123:ABC/sendMessage")
    assert client.get(f"/v1/subscriptions/{sub['id']}", headers=as_(keys["alpha"])).json()["disabled"] is True
    refused = post_update(client, sub["id"], update(f"ack:{alert_id}", 7))
    unknown = post_update(client, str(uuid.uuid4()), update(f"ack:{alert_id}", 7))
    assert refused.status_code == unknown.status_code == 401 and refused.json() == unknown.json()
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"
    assert receiver.at("/bot123:ABC/answerCallbackQuery") == []
    assert receiver.at("/bot123:ABC/editMessageReplyMarkup") == []
    with box.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(seen_callbacks)).scalar() == 0


def test_other_updates_are_ignored_and_malformed_ones_name_the_field(client, receiver, keys, telegram_alert):
    sub, alert_id = telegram_alert
    assert post_update(client, sub["id"], {"update_id": 3, "message": {"text": "hi"}}).status_code == 200
    bad = post_update(client, sub["id"], {"update_id": "three"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "update_id"]
    assert alert(client, keys["alpha"], alert_id)["state"] == "open"


def test_vigil_telegram_webhook_registers_the_url_and_secret(box, settings, receiver, keys, client, telegram_alert,
                                                            monkeypatch):
    from service.cli import app

    sub, _ = telegram_alert
    for name, value in (("DATABASE_URL", settings.database_url), ("MASTER_KEY", settings.master_key),
                        ("PUBLIC_URL", "https://vigil.ngo.example"), ("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")):
        monkeypatch.setenv(f"VIGIL_{name}", value)
    done = CliRunner().invoke(app, ["telegram", "webhook", sub["id"]])
    assert done.exit_code == 0, done.output
    url = f"https://vigil.ngo.example/integrations/telegram/{sub['id']}"
    assert url in done.output
    [registered] = [json.loads(r.body) for r in receiver.at("/bot123:ABC/setWebhook")]
    assert registered == {"url": url, "secret_token": HOOK_SECRET, "allowed_updates": ["callback_query"]}
    receiver.script("/bot123:ABC/setWebhook", 400)
    refused = CliRunner().invoke(app, ["telegram", "webhook", sub["id"]])
    assert refused.exit_code == 1 and "HTTP 400" in refused.output
    assert CliRunner().invoke(app, ["telegram", "webhook", str(uuid.uuid4())]).exit_code == 1
