"""Discord webhook: `content` plus an embed; mentions disabled so user text can never ping anyone."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from events.records import iso

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, json_request, markdown_escape, render_text, truncate
from .config import ChannelSettings, HttpUrlText


class DiscordChannel(ChannelSettings):
    kind: Literal["discord"]
    url: HttpUrlText


COLOURS = {"info": 0x439FE0, "warning": 0xDAA038, "high": 0xE8710A, "critical": 0xD00000}


def render(channel: DiscordChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    text = render_text(message, markdown_escape, lambda url, label: f"<{url}>", 4096)
    embed = {"title": truncate(f"{message.heading}: {message.title}", 256), "description": text,
             "color": COLOURS.get(message.severity, 0x888888), "timestamp": iso(now)}
    if message.case_url:
        embed["url"] = message.case_url
    payload = {"content": truncate(f"{message.heading} [{message.severity_text}]: {markdown_escape(message.title)}", 2000),
               "embeds": [embed], "allowed_mentions": {"parse": []}}
    return json_request("POST", channel.url, payload, secret_parts=(channel.url.rsplit("/", 1)[-1],))


KIND = ChannelKind("discord", DiscordChannel, render, url_fields=("url",), form_fields=("url",))
