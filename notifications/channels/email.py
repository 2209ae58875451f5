"""Email: multipart text and HTML from the Jinja2 templates, sent over SMTP (STARTTLS and auth when configured)."""
from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from pydantic import Field

from events.text import one_line

from ..message import AlertMessage
from .base import ChannelKind, Delivered, Outcome, Retry, render_text, templates, truncate
from .config import ChannelSettings, EmailAddress


class EmailChannel(ChannelSettings):
    kind: Literal["email"]
    to: list[EmailAddress] = Field(min_length=1, max_length=20)


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None  # None: no SMTP server configured, email cannot be sent
    port: int = 25
    sender: str = "vigil@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 15.0


def render(channel: EmailChannel, message: AlertMessage, sender: str, now: datetime) -> EmailMessage:
    email = EmailMessage()
    # A header may not hold a line break (the email package refuses to build it): one line, whatever the title.
    email["Subject"] = truncate(one_line(f"[Vigil {message.severity}] {message.heading}: {message.title}"), 200)
    email["From"] = sender
    email["To"] = ", ".join(channel.to)
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(idstring=message.delivery_id, domain="vigil.invalid")
    email["X-Vigil-Delivery"] = message.delivery_id
    email.set_content(render_text(message, str, lambda url, label: url, 100_000))
    email.add_alternative(templates().get_template("alert.html").render(m=message), subtype="html")
    return email


def _send_blocking(email: EmailMessage, smtp: SmtpSettings) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        client.send_message(email)


async def send(email: EmailMessage, smtp: SmtpSettings) -> Outcome:
    if not smtp.host:  # a subscription made before SMTP was unset: retried, so setting it later still delivers
        return Retry("SMTP is not configured: set VIGIL_SMTP_HOST")
    try:
        await asyncio.to_thread(_send_blocking, email, smtp)
    except smtplib.SMTPResponseException as exc:
        return Retry(f"SMTP {exc.smtp_code}: {exc.smtp_error.decode(errors='replace')[:200]}", exc.smtp_code)
    except smtplib.SMTPRecipientsRefused as exc:
        return Retry(f"SMTP refused recipients: {len(exc.recipients)}")
    except (smtplib.SMTPException, OSError) as exc:
        return Retry(f"{type(exc).__name__}: {exc}"[:500])
    return Delivered()


KIND = ChannelKind("email", EmailChannel, render, transport="smtp", shown_fields=("to",), form_fields=("to",),
                   form_lists=("to",))
