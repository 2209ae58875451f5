"""One module per channel kind; this registry renders and sends through the right one."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from ..http_sender import Sender
from ..message import AlertMessage
from . import discord, email, matrix, mattermost, slack, teams, telegram, webhook
from .base import HttpRequest, Outcome, classify, send_http
from .config import KINDS, Channel
from .email import SmtpSettings

HTTP_RENDERERS = {"webhook": webhook.render, "slack": slack.render, "mattermost": mattermost.render,
                  "teams": teams.render, "discord": discord.render, "matrix": matrix.render,
                  "telegram": telegram.render}
assert set(HTTP_RENDERERS) | {"email"} == set(KINDS)


def render(channel, message: AlertMessage, secret: str, now: datetime, smtp: SmtpSettings) -> HttpRequest | EmailMessage:
    if channel.kind == "email":
        return email.render(channel, message, smtp.sender, now)
    return HTTP_RENDERERS[channel.kind](channel, message, secret, now)


async def send(sender: Sender, rendered: HttpRequest | EmailMessage, now: datetime,
               smtp: SmtpSettings, timeout: float = 10.0, allow_private: bool = False) -> Outcome:
    if isinstance(rendered, EmailMessage):
        return await email.send(rendered, smtp)
    return await send_http(sender, rendered, now, timeout, allow_private)


__all__ = ["Channel", "KINDS", "render", "send", "classify", "SmtpSettings", "HttpRequest"]
