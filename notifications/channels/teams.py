"""Microsoft Teams Workflows webhook: a message with one Adaptive Card; 202 counts as accepted."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, json_request, truncate
from .config import ChannelSettings, HttpUrlText


class TeamsChannel(ChannelSettings):
    kind: Literal["teams"]
    url: HttpUrlText


def render(channel: TeamsChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    facts = [{"title": message.gettext("Severity"),
              "value": message.severity_text + (" " + message.gettext("(late)") if message.late else "")},
             {"title": message.gettext("Rule"), "value": message.rule}]
    if message.case_id:
        facts.append({"title": message.gettext("Case"), "value": message.case_id})
    if message.person_name:
        facts.append({"title": message.gettext("Person"), "value": message.person_name})
    if message.occurred_at:
        facts.append({"title": message.gettext("Occurred"), "value": message.occurred_text})
    if message.due_at:
        facts.append({"title": message.gettext("Due"), "value": message.due_text})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
        "body": [{"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": True,
                  "text": truncate(f"{message.heading}: {message.title}", 500)},
                 {"type": "FactSet", "facts": facts}],
        "actions": ([{"type": "Action.OpenUrl", "title": message.gettext("Open case"), "url": message.case_url}]
                    if message.case_url else [])
                   + ([{"type": "Action.OpenUrl", "title": message.gettext("Acknowledge"), "url": message.ack_url}]
                      if message.ack_url else []),
    }
    payload = {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}
    return json_request("POST", channel.url, payload)


KIND = ChannelKind("teams", TeamsChannel, render, url_fields=("url",), form_fields=("url",))
