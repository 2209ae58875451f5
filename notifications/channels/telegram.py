"""Telegram Bot API: sendMessage with parse_mode HTML (user text HTML-escaped, 4096 characters at most); with a
webhook secret set, an inline "Acknowledge" button whose callback_data names the alert (never a person)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, html_escape, json_request, render_text
from .config import ChannelSettings, HttpUrlText, Secret

_ACK_DATA = re.compile(r"^ack:([0-9a-f-]{36})$")
ACKNOWLEDGEABLE = ("raised", "escalated")
# What setWebhook accepts as secret_token, and Telegram sends back in X-Telegram-Bot-Api-Secret-Token.
WebhookSecret = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,256}$")]


class TelegramChannel(ChannelSettings):
    kind: Literal["telegram"]
    bot_token: Secret
    chat_id: Annotated[str, StringConstraints(pattern=r"^(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$")]
    api_base: HttpUrlText = "https://api.telegram.org"
    webhook_secret: WebhookSecret | None = None  # registered with `vigil telegram webhook`; turns the button on


def ack_data(alert_id: str) -> str:
    return f"ack:{alert_id}"  # 40 bytes: callback_data may hold 64


def parse_ack_data(data: object) -> str | None:
    found = _ACK_DATA.match(data) if isinstance(data, str) else None
    return found.group(1) if found else None


def method_url(channel: TelegramChannel, method: str) -> str:
    return f"{channel.api_base.rstrip('/')}/bot{channel.bot_token}/{method}"


def render(channel: TelegramChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    text = render_text(message, html_escape, lambda url, label: f'<a href="{html_escape(url)}">{label}</a>', 4096)
    payload = {"chat_id": channel.chat_id, "text": text, "parse_mode": "HTML", "disable_web_page_preview": True}
    if channel.webhook_secret and message.kind in ACKNOWLEDGEABLE and message.alert_id:
        payload["reply_markup"] = {"inline_keyboard": [[{"text": message.gettext("Acknowledge"),
                                                         "callback_data": ack_data(message.alert_id)}]]}
    return json_request("POST", method_url(channel, "sendMessage"), payload, secret_parts=(channel.bot_token,))


KIND = ChannelKind("telegram", TelegramChannel, render, url_fields=("api_base",), shown_fields=("chat_id",),
                   form_fields=("bot_token", "chat_id", "webhook_secret"), form_secrets=("webhook_secret",))
