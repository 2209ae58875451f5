"""Telegram's side of a button click: the webhook's secret-token header, the callback_query update, and the Bot API
calls that answer it (answerCallbackQuery, editMessageReplyMarkup) or register the webhook (setWebhook)."""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any, Iterable

from notifications.channels.base import HttpRequest, json_request
from notifications.channels.telegram import TelegramChannel, ack_data, method_url, parse_ack_data


def matching(channels: Iterable[TelegramChannel], token: str | None) -> TelegramChannel | None:
    """The channel whose webhook secret the X-Telegram-Bot-Api-Secret-Token header carries, each compared in
    constant time; None if none does (or there is no header)."""
    if not token:
        return None
    given = token.encode("utf-8", "replace")
    found = None
    for channel in channels:  # every one compared (no early exit)
        if channel.webhook_secret and hmac.compare_digest(channel.webhook_secret.encode(), given):
            found = found or channel
    return found


@dataclass(frozen=True)
class Callback:
    update_id: int
    query_id: str
    alert_id: str | None  # None: not our button's data
    chat_id: int | str | None
    message_id: int | None
    user_id: int | None
    user_name: str


class NotAnUpdate(ValueError):
    """The body is not a Telegram update; `field` names what is wrong."""

    def __init__(self, field: str, msg: str):
        super().__init__(msg)
        self.field = field


def parse_update(body: bytes) -> Callback | None:
    """The callback query an update carries; None for any other kind of update (nothing to do)."""
    try:
        update = json.loads(body)
    except ValueError:
        raise NotAnUpdate("body", "not JSON") from None
    if not isinstance(update, dict):
        raise NotAnUpdate("body", "not a JSON object")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**63:
        raise NotAnUpdate("update_id", "must be a non-negative integer")
    query = update.get("callback_query")
    if query is None:
        return None
    if not isinstance(query, dict) or not isinstance(query.get("id"), str) or not query["id"]:
        raise NotAnUpdate("callback_query.id", "must be a string")
    sender = query.get("from") if isinstance(query.get("from"), dict) else {}
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    name = sender.get("username")
    name = f"@{name}" if isinstance(name, str) and name else sender.get("first_name")
    return Callback(update_id, query["id"][:200], parse_ack_data(query.get("data")),
                    _int_or_str(chat.get("id")), _int(message.get("message_id")), _int(sender.get("id")),
                    name[:80] if isinstance(name, str) else "")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63 else None


def _int_or_str(value: Any) -> int | str | None:
    return value[:80] if isinstance(value, str) else _int(value)


def answer(channel: TelegramChannel, callback: Callback, text: str) -> HttpRequest:
    return json_request("POST", method_url(channel, "answerCallbackQuery"),
                        {"callback_query_id": callback.query_id, "text": text[:200]},
                        secret_parts=(channel.bot_token,))


def mark_acknowledged(channel: TelegramChannel, callback: Callback, label: str) -> HttpRequest | None:
    """The message's button replaced by one saying who acknowledged (pressing it again changes nothing)."""
    if callback.chat_id is None or callback.message_id is None or callback.alert_id is None:
        return None
    markup = {"inline_keyboard": [[{"text": label[:120], "callback_data": ack_data(callback.alert_id)}]]}
    return json_request("POST", method_url(channel, "editMessageReplyMarkup"),
                        {"chat_id": callback.chat_id, "message_id": callback.message_id, "reply_markup": markup},
                        secret_parts=(channel.bot_token,))


def set_webhook(channel: TelegramChannel, url: str) -> HttpRequest:
    return json_request("POST", method_url(channel, "setWebhook"),
                        {"url": url, "secret_token": channel.webhook_secret, "allowed_updates": ["callback_query"]},
                        secret_parts=(channel.bot_token, *([channel.webhook_secret] if channel.webhook_secret else [])))
