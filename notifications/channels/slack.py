"""Slack incoming webhook: `text` plus `blocks`, user text escaped for Slack's mrkdwn; with the Slack app's signing
secret set, an "Acknowledge" button whose value names the alert and the subscription (never a person)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, json_request, render_text, slack_escape, truncate
from .config import ChannelSettings, HttpUrlText, Secret

ACK_ACTION = "vigil_acknowledge"  # the button's action_id
_ACK_VALUE = re.compile(r"^ack:([0-9a-f-]{36}):([0-9a-f-]{36})$")
ACKNOWLEDGEABLE = ("raised", "escalated")


class SlackChannel(ChannelSettings):
    kind: Literal["slack"]
    url: HttpUrlText
    signing_secret: Secret | None = None  # the Slack app's: verifies its clicks (POST /integrations/slack/actions)


def ack_value(alert_id: str, subscription_id: str) -> str:
    return f"ack:{alert_id}:{subscription_id}"


def parse_ack_value(value: object) -> tuple[str, str] | None:
    """(alert id, subscription id) from a button's value, or None if it is not one of ours."""
    found = _ACK_VALUE.match(value) if isinstance(value, str) else None
    return (found.group(1), found.group(2)) if found else None


def render(channel: SlackChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    text = render_text(message, slack_escape, lambda url, label: f"<{url}|{label}>", 3000)
    header = truncate(f"{message.heading} [{message.severity_text}]", 150)
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": header}},
              {"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if (channel.signing_secret and message.kind in ACKNOWLEDGEABLE and message.alert_id
            and message.subscription_id):
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "action_id": ACK_ACTION, "style": "primary",
            "text": {"type": "plain_text", "text": message.gettext("Acknowledge")},
            "value": ack_value(message.alert_id, message.subscription_id)}]})
    return json_request("POST", channel.url, {"text": truncate(f"{header}: {message.title}", 3000), "blocks": blocks},
                        secret_parts=(channel.url.split("/services/")[-1],) if "/services/" in channel.url else ())


KIND = ChannelKind("slack", SlackChannel, render, url_fields=("url",), form_fields=("url", "signing_secret"),
                   form_secrets=("signing_secret",))
