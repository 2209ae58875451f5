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

from events.i18n import phrase, render as say
from events.text import one_line

from ..message import AlertMessage
from .base import ChannelKind, Delivered, Failed, Outcome, Retry, render_html, render_text, truncate
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
    subject = phrase("[Vigil %(severity)s] %(heading)s: %(title)s", severity=message.severity_text,
                     heading=message.heading, title=message.title)
    email["Subject"] = truncate(one_line(say(subject, message.language)), 200)
    email["From"] = sender
    email["To"] = ", ".join(channel.to)
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(idstring=message.delivery_id, domain="vigil.invalid")
    email["X-Vigil-Delivery"] = message.delivery_id
    email.set_content(render_text(message, str, lambda url, label: url, 100_000))
    email.add_alternative(render_html(message), subtype="html")
    return email


def _send_blocking(email: EmailMessage, smtp: SmtpSettings) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        client.send_message(email)


# Refusals of our own server's set-up (who we are, how we log in): fixed by the operator, after which every
# waiting email goes out, so they are retried whatever their code (as Alertmanager's email notifier does).
SERVER_SETUP = (smtplib.SMTPAuthenticationError, smtplib.SMTPConnectError, smtplib.SMTPHeloError)


def classify_smtp(exc: smtplib.SMTPException | OSError) -> Outcome:
    """An SMTP failure's class: a 5xx refusal of this message (its sender, recipients or content) fails for good;
    4xx, our server's set-up, a dropped connection or a network error is retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        text = f"SMTP refused every recipient ({', '.join(map(str, codes))})"
        if codes and all(code >= 500 for code in codes):
            return Failed(text + "; not retried", codes[-1])
        return Retry(text, codes[-1] if codes else None)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"SMTP {exc.smtp_code}: {_said(exc.smtp_error)[:200]}"
        if exc.smtp_code >= 500 and not isinstance(exc, SERVER_SETUP):
            return Failed(text + "; not retried", exc.smtp_code)
        return Retry(text, exc.smtp_code)
    return Retry(f"{type(exc).__name__}: {exc}"[:500])


def _said(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


async def send(email: EmailMessage, smtp: SmtpSettings) -> Outcome:
    if not smtp.host:  # a subscription made before SMTP was unset: retried, so setting it later still delivers
        return Retry("SMTP is not configured: set VIGIL_SMTP_HOST")
    try:
        await asyncio.to_thread(_send_blocking, email, smtp)
    except (smtplib.SMTPException, OSError) as exc:
        return classify_smtp(exc)
    return Delivered()


KIND = ChannelKind("email", EmailChannel, render, transport="smtp", shown_fields=("to",), form_fields=("to",),
                   form_lists=("to",))
