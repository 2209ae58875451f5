"""What every channel shares: its registry entry, rendered requests, send outcomes, and failure classes."""
from __future__ import annotations

import html
import json
import re
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Literal, Mapping, Union

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError

from events.i18n import direction, language, translations

from ..message import AlertMessage
from ..retry import parse_retry_after
from ..http_sender import Sender, SendError, SendTimeout
from ..ssrf import TargetRefused


@dataclass(frozen=True)
class Delivered:
    status_code: int | None = None


@dataclass(frozen=True)
class Retry:
    error: str
    status_code: int | None = None
    after: timedelta | None = None


@dataclass(frozen=True)
class Failed:
    """Permanent: sending it again cannot succeed without a change (dead at once, replayable by hand)."""
    error: str
    status_code: int | None = None
    disable_subscription: bool = False
    internal: bool = False  # a bug on our side, not the receiver's answer


Outcome = Union[Delivered, Retry, Failed]


@dataclass(frozen=True)
class ChannelKind:
    """What one channel module contributes to the registry: everything the rest of Vigil needs to know of a kind."""
    name: str  # the `channel.kind` value
    model: type[BaseModel]  # its settings, as the API validates them
    render: Callable[..., Any]  # (channel, message, secret, now) for http; (channel, message, sender, now) for smtp
    transport: Literal["http", "smtp"] = "http"
    url_fields: tuple[str, ...] = ()  # receivers' URLs: checked against internal targets, shown by host only
    shown_fields: tuple[str, ...] = ()  # shown as they are in a subscription's public view
    masked_fields: tuple[str, ...] = ()  # personal identifiers (phone numbers): shown masked (`mask`)
    form_fields: tuple[str, ...] = ()  # the dashboard's inputs for this kind, in order
    form_lists: tuple[str, ...] = ()  # of those, the comma-separated ones
    # Of those, the optional secrets (a chat app's signing secret): password inputs, never shown back, left out of
    # the channel when empty. Being optional, they do not stop the escalation inputs from describing the kind.
    form_secrets: tuple[str, ...] = ()


def mask(value: str) -> str:
    """An identifier shown so its owner can recognise it and nobody else can use it: +49•••••••67, group.…Zg==."""
    if value.startswith("group."):
        return "group.…" + value[-4:]
    return value[:3] + "•" * max(len(value) - 5, 1) + value[-2:]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    secret_parts: tuple[str, ...] = ()  # substrings of the URL never to be shown (tokens)

    def json(self) -> Any:
        return json.loads(self.body)

    def shown_url(self) -> str:
        url = self.url
        for part in self.secret_parts:
            url = url.replace(part, "***")
        return url


def json_request(method: str, url: str, payload: dict[str, Any], headers: dict[str, str] | None = None,
                 secret_parts: tuple[str, ...] = ()) -> HttpRequest:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return HttpRequest(method, url, body, {"content-type": "application/json", **(headers or {})}, secret_parts)


# Besides every 5xx, the answers that say "later" rather than "no" (as Alertmanager's notifiers retry).
RETRIED_STATUSES = frozenset({408, 429})


def classify(status_code: int, headers: Mapping[str, str], now: datetime,
             accepted: range = range(200, 300)) -> Outcome:
    """Only 2xx is success; 5xx, 408 and 429 are retried (honouring Retry-After); 410 disables the subscription;
    any other answer fails for good, as sending the same request again would be refused again."""
    if status_code in accepted:
        return Delivered(status_code)
    if status_code >= 500 or status_code in RETRIED_STATUSES:
        return Retry(f"HTTP {status_code}", status_code, parse_retry_after(headers.get("retry-after"), now))
    if status_code == 410:
        return Failed("410 Gone: the receiver asked to stop; subscription disabled", 410, True)
    if 300 <= status_code < 400:
        return Failed(f"HTTP {status_code}: redirects are not followed; not retried", status_code)
    return Failed(f"HTTP {status_code}: refused by the receiver; not retried", status_code)


# Raised while preparing a delivery by an outage that passes (the database or a disk), not by a bug.
OUTAGES = (OSError, OperationalError, InterfaceError, sqlite3.OperationalError, sqlite3.InterfaceError)


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, OUTAGES):
        return True
    # psycopg's own errors (the append path's raw SQL), recognised without importing psycopg where it is unused:
    # an exception of its classes can only exist once it has been imported.
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))


def unprepared(exc: Exception) -> Outcome:
    """The outcome of a delivery that raised before it was sent: an outage is retried; anything else is a bug,
    recorded as one and not retried (a day of silent retries would hide it). Only the type is kept: an
    exception's text may quote personal data."""
    if is_outage(exc):
        return Retry(f"outage while preparing: {type(exc).__name__}")
    return Failed(f"internal error: {type(exc).__name__}", internal=True)


async def send_http(sender: Sender, request: HttpRequest, now: datetime, timeout: float = 10.0,
                    allow_private: bool = False) -> Outcome:
    try:
        if not allow_private:
            await sender.check(request.url)
        answer = await sender.send(request.method, request.url, request.body, request.headers, timeout)
    except TargetRefused as exc:  # from the check, or from the resolver as the connection was made
        return Failed(_scrub(f"refused: {exc}", request))
    except OSError as exc:  # DNS down or the name gone for now: try again later
        return Retry(_scrub(f"DNS: {exc}", request))
    except SendTimeout as exc:
        return Retry(_scrub(f"timeout: {exc}", request))
    except SendError as exc:
        return Retry(_scrub(str(exc), request))
    return classify(answer.status_code, answer.headers, now)


def _scrub(error: str, request: HttpRequest) -> str:
    error = error.replace(request.url, request.shown_url())
    for part in request.secret_parts:
        error = error.replace(part, "***")
    return error[:500]


# ---- text rendering shared by the chat channels ----

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<@])")


def slack_escape(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escape(text: Any) -> str:
    return _MARKDOWN.sub(r"\\\1", str(text))


def html_escape(text: Any) -> str:
    return html.escape(str(text), quote=True)


@lru_cache(maxsize=1)
def templates() -> Environment:
    env = Environment(loader=PackageLoader("notifications", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    return env


# The words of a template are in the language of the message it renders (`m`), whichever subscription it is for.
@pass_context
def _gettext(context, message: str) -> str:
    return translations(language(context["m"].language)).gettext(message)


@pass_context
def _ngettext(context, singular: str, plural: str, n: int) -> str:
    return translations(language(context["m"].language)).ngettext(singular, plural, n)


def render_html(message: AlertMessage) -> str:
    return templates().get_template("alert.html").render(m=message, direction=direction(message.language))


def render_text(message: AlertMessage, escape, link, limit: int) -> str:
    """The alert as text, with user-supplied text escaped for the target markup and cut to the channel's limit."""
    text = templates().get_template("alert.txt.j2").render(m=message, esc=escape, link=link).strip()
    return truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
