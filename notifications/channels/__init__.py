"""One module per channel kind, each contributing to the registry; this renders and sends through the right one."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from ..http_sender import Sender
from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, Outcome, classify, send_http
from .email import SmtpSettings
from .email import send as send_email
from .registry import CHANNELS, KINDS, Channel, url_fields


def render(channel, message: AlertMessage, secret: str, now: datetime, smtp: SmtpSettings) -> HttpRequest | EmailMessage:
    kind = CHANNELS[channel.kind]
    if kind.transport == "smtp":
        return kind.render(channel, message, smtp.sender, now)
    return kind.render(channel, message, secret, now)


async def send(sender: Sender, rendered: HttpRequest | EmailMessage, now: datetime,
               smtp: SmtpSettings, timeout: float = 10.0, allow_private: bool = False) -> Outcome:
    if isinstance(rendered, EmailMessage):
        return await send_email(rendered, smtp)
    return await send_http(sender, rendered, now, timeout, allow_private)


__all__ = ["CHANNELS", "Channel", "ChannelKind", "KINDS", "render", "send", "classify", "url_fields", "SmtpSettings",
           "HttpRequest"]
