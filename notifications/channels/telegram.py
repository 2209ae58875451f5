"""Telegram Bot API: sendMessage with parse_mode HTML (user text HTML-escaped, 4096 characters at most)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, html_escape, json_request, render_text
from .config import ChannelSettings, HttpUrlText, Secret


class TelegramChannel(ChannelSettings):
    kind: Literal["telegram"]
    bot_token: Secret
    chat_id: Annotated[str, StringConstraints(pattern=r"^(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$")]
    api_base: HttpUrlText = "https://api.telegram.org"


def render(channel: TelegramChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    text = render_text(message, html_escape, lambda url, label: f'<a href="{html_escape(url)}">{label}</a>', 4096)
    url = f"{channel.api_base.rstrip('/')}/bot{channel.bot_token}/sendMessage"
    payload = {"chat_id": channel.chat_id, "text": text, "parse_mode": "HTML", "disable_web_page_preview": True}
    return json_request("POST", url, payload, secret_parts=(channel.bot_token,))


KIND = ChannelKind("telegram", TelegramChannel, render, url_fields=("api_base",), shown_fields=("chat_id",),
                   form_fields=("bot_token", "chat_id"))
