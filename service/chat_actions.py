"""Acknowledging from a chat button: a Slack or Telegram callback checked against its subscription's secret, refused
if replayed, then the alert acknowledged (recording who and how) and the message updated through the chat's API."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from events.clock import Clock
from events.i18n import language, phrase, to_json, translations
from notifications.channels.base import Delivered, HttpRequest, json_request, send_http
from notifications.subscriptions import Subscriptions
from notifications.worker import DeliveryWorker

from .alerts import AlertService
from .errors import InputError, NotFound, Unauthorized
from .integrations import slack, telegram
from .integrations.replays import SeenCallbacks

log = logging.getLogger("vigil.chat")
# A Slack signature is refused once stale anyway; Telegram gives up re-sending an update within a day.
KEEP_SLACK = slack.MAX_AGE * 2
KEEP_TELEGRAM = timedelta(days=2)
SEND_TIMEOUT = 2.5  # Slack wants its answer within 3 s


class ChatActions:
    def __init__(self, subs: Subscriptions, alerts: AlertService, seen: SeenCallbacks, worker: DeliveryWorker,
                 clock: Clock, public_url: str, slack_response_base: str):
        self.subs, self.alerts, self.seen, self.worker, self.clock = subs, alerts, seen, worker, clock
        self.public_url, self.slack_response_base = public_url.rstrip("/"), slack_response_base

    async def slack_click(self, body: bytes, timestamp: str | None, signed: str | None) -> None:
        """POST /integrations/slack/actions: Unauthorized unless signed by the named subscription's Slack app
        within five minutes and not seen before; NotFound for an alert that subscription's team may not see."""
        now = self.clock.now()
        click = slack.parse_click(body)
        if click is None:
            raise Unauthorized("not a click on a Vigil Acknowledge button")
        found = await self._may_act(click.subscription_id)
        secrets = [c.signing_secret for c in (found[1] if found else []) if c.kind == "slack" and c.signing_secret]
        problem = slack.refusal(secrets, timestamp, signed, body, now)
        if problem:
            raise Unauthorized(problem)
        if not await asyncio.to_thread(self.seen.first_time, f"slack:{signed}", now, KEEP_SLACK):
            raise Unauthorized("this request was already received (a replay)")
        sub = found[0]
        user = click.user_name or click.user_id or "?"
        newly = await asyncio.to_thread(
            self.alerts.acknowledge_from_channel, click.alert_id, sub,
            f"subscription:{sub['id']} slack:{click.user_id}", _via("Slack", sub, user))
        note = _note(sub, newly, slack.who(click))
        url = click.response_url
        if url is None or not url.startswith(self.slack_response_base):
            log.warning("Slack click on alert %s: response_url missing or not under %s; message not updated",
                        click.alert_id, self.slack_response_base)
            return
        await self._send(json_request("POST", url, slack.acknowledged_message(click, note), secret_parts=(url,)),
                         "Slack message update")

    async def telegram_update(self, subscription_id: str, body: bytes, token: str | None) -> None:
        """POST /integrations/telegram/{subscription id}: Unauthorized unless the header carries that subscription's
        webhook secret and the update id is new; NotFound for an alert that subscription's team may not see."""
        now = self.clock.now()
        found = await self._may_act(subscription_id) if len(subscription_id) <= 64 else None
        channel = telegram.matching([c for c in (found[1] if found else []) if c.kind == "telegram"], token)
        if channel is None:
            raise Unauthorized("X-Telegram-Bot-Api-Secret-Token does not match this subscription's webhook secret")
        try:
            callback = telegram.parse_update(body)
        except telegram.NotAnUpdate as exc:
            raise InputError([{"loc": ["body", *exc.field.split(".")], "msg": str(exc), "type": "value_error"}]) \
                from None
        if callback is None:
            return  # another kind of update: nothing to do, and a 200 so Telegram does not send it again
        key = f"telegram:{subscription_id}:{callback.update_id}"
        if not await asyncio.to_thread(self.seen.first_time, key, now, KEEP_TELEGRAM):
            raise Unauthorized("this update was already received (a replay)")
        if callback.alert_id is None:
            raise NotFound("alert", "")
        sub = found[0]
        user = callback.user_name or (str(callback.user_id) if callback.user_id is not None else "?")
        newly = await asyncio.to_thread(
            self.alerts.acknowledge_from_channel, callback.alert_id, sub,
            f"subscription:{sub['id']} telegram:{callback.user_id}",
            _via("Telegram", sub, user))
        note = _note(sub, newly, user)
        await self._send(telegram.answer(channel, callback, note), "Telegram answerCallbackQuery")
        edit = telegram.mark_acknowledged(channel, callback, f"✅ {note}")
        if edit is not None:
            await self._send(edit, "Telegram editMessageReplyMarkup")

    async def register_telegram(self, subscription_id: str) -> tuple[str, Any]:
        """Call setWebhook for a subscription's Telegram channel(s) with a webhook secret: the URL registered and the
        outcome of the last call. NotFound if it has none."""
        found = await asyncio.to_thread(self.subs.with_channels, subscription_id)
        targets = [c for c in (found[1] if found else []) if c.kind == "telegram" and c.webhook_secret]
        if not targets:
            raise NotFound("subscription", subscription_id)
        url = f"{self.public_url}/integrations/telegram/{subscription_id}"
        outcome = None
        for channel in dict.fromkeys(targets):  # a bot used for both channel and escalation is registered once
            outcome = await send_http(self.worker.sender, telegram.set_webhook(channel, url), self.clock.now(),
                                      SEND_TIMEOUT * 4, self.worker.allow_private_networks)
            if not isinstance(outcome, Delivered):
                break
        return url, outcome

    async def _may_act(self, subscription_id: str) -> tuple[dict[str, Any], list[Any]] | None:
        """The subscription and its channels if its buttons may act; None if it is unknown, deleted or disabled, so a
        disabled one is refused exactly as one that does not exist, before anything is recorded."""
        found = await asyncio.to_thread(self.subs.with_channels, subscription_id)
        return None if found is None or found[0]["disabled"] else found

    async def _send(self, request: HttpRequest, what: str) -> None:
        """The answer's follow-up: its failure is logged (the alert is acknowledged already), never raised."""
        try:
            outcome = await send_http(self.worker.sender, request, self.clock.now(), SEND_TIMEOUT,
                                      self.worker.allow_private_networks)
        except Exception:  # noqa: BLE001 - a bug here must not turn a done acknowledgement into a 500
            log.exception("%s failed", what)
            return
        if not isinstance(outcome, Delivered):
            log.warning("%s failed: %s", what, getattr(outcome, "error", outcome))


def _via(service: str, sub: dict[str, Any], user: str) -> str:
    """How it was acknowledged, stored as a phrase the dashboard says in its reader's language."""
    return to_json(phrase("%(service)s button, subscription '%(name)s', by %(who)s", service=service,
                          name=sub["name"], who=user[:100]))


def _note(sub: dict[str, Any], newly: bool, who: str) -> str:
    words = translations(language(sub["language"]))
    return words.gettext("Acknowledged by %(who)s") % {"who": who} if newly else words.gettext("Already acknowledged")
