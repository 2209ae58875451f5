"""Slack incoming webhook: `text` plus `blocks`, user text escaped for Slack's mrkdwn."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, json_request, render_text, slack_escape, truncate
from .config import ChannelSettings, HttpUrlText


class SlackChannel(ChannelSettings):
    kind: Literal["slack"]
    url: HttpUrlText


def render(channel: SlackChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    text = render_text(message, slack_escape, lambda url, label: f"<{url}|{label}>", 3000)
    header = truncate(f"{message.heading} [{message.severity_text}]", 150)
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": header}},
              {"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    return json_request("POST", channel.url, {"text": truncate(f"{header}: {message.title}", 3000), "blocks": blocks},
                        secret_parts=(channel.url.split("/services/")[-1],) if "/services/" in channel.url else ())


KIND = ChannelKind("slack", SlackChannel, render, url_fields=("url",), form_fields=("url",))
