"""Telegram Bot API: sendMessage with parse_mode HTML (user text HTML-escaped, 4096 characters at most)."""
from __future__ import annotations

from datetime import datetime

from ..message import AlertMessage
from .base import HttpRequest, html_escape, json_request, render_text
from .config import TelegramChannel


def render(channel: TelegramChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    text = render_text(message, html_escape, lambda url, label: f'<a href="{html_escape(url)}">{label}</a>', 4096)
    url = f"{channel.api_base.rstrip('/')}/bot{channel.bot_token}/sendMessage"
    payload = {"chat_id": channel.chat_id, "text": text, "parse_mode": "HTML", "disable_web_page_preview": True}
    return json_request("POST", url, payload, secret_parts=(channel.bot_token,))
