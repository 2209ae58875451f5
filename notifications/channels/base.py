"""What every channel shares: its registry entry, rendered requests, send outcomes, and HTTP status classification."""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Literal, Mapping, Union

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel

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
    error: str
    status_code: int | None = None
    disable_subscription: bool = False


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
    form_fields: tuple[str, ...] = ()  # the dashboard's inputs for this kind, in order
    form_lists: tuple[str, ...] = ()  # of those, the comma-separated ones


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


def classify(status_code: int, headers: Mapping[str, str], now: datetime,
             accepted: range = range(200, 300)) -> Outcome:
    """Only 2xx is success; 410 disables the subscription; anything else is retried (honouring Retry-After)."""
    if status_code in accepted:
        return Delivered(status_code)
    if status_code == 410:
        return Failed("410 Gone: the receiver asked to stop; subscription disabled", 410, True)
    return Retry(f"HTTP {status_code}", status_code, parse_retry_after(headers.get("retry-after"), now))


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
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    return env


def render_text(message: AlertMessage, escape, link, limit: int) -> str:
    """The alert as text, with user-supplied text escaped for the target markup and cut to the channel's limit."""
    text = templates().get_template("alert.txt.j2").render(m=message, esc=escape, link=link).strip()
    return truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
