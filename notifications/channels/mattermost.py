"""Mattermost incoming webhook: markdown `text` plus an attachment coloured by severity."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, json_request, markdown_escape, render_text, truncate
from .config import ChannelSettings, HttpUrlText


class MattermostChannel(ChannelSettings):
    kind: Literal["mattermost"]
    url: HttpUrlText


COLOURS = {"info": "#439FE0", "warning": "#DAA038", "high": "#E8710A", "critical": "#D00000"}


def render(channel: MattermostChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    text = render_text(message, markdown_escape, lambda url, label: f"[{label}]({url})", 16000)
    attachment = {"fallback": truncate(message.title, 300), "color": COLOURS.get(message.severity, "#888888"),
                  "title": truncate(message.title, 300), "title_link": message.case_url or ""}
    return json_request("POST", channel.url, {"text": text, "attachments": [attachment]})


KIND = ChannelKind("mattermost", MattermostChannel, render, url_fields=("url",), form_fields=("url",))
