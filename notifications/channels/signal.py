"""Signal, through the team's own signal-cli REST API service: POST /v2/send with plain text (2000 UTF-8 bytes)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, json_request, render_text
from .config import ChannelSettings, HttpUrlText

# The account signal-cli sends from is a phone number; a recipient is one too, or a group signal-cli knows
# ("group." and the base64 id that GET /v1/groups/{number} lists).
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
GROUP = re.compile(r"^group\.[A-Za-z0-9+/_-]{4,300}={0,2}$")
NOT_A_NUMBER = "must be a phone number in international form, like +49301234567"
NOT_A_RECIPIENT = "must be a phone number in international form, like +49301234567, or a group id (group.…)"
# Signal sends a text body over 2 KiB as an attachment ("long text") instead; stay inline, so every client shows it.
MAX_BYTES = 2000


def _number(value: str) -> str:
    if not E164.match(value):
        raise ValueError(NOT_A_NUMBER)
    return value


def _recipient(value: str) -> str:
    if not (E164.match(value) or GROUP.match(value)):
        raise ValueError(NOT_A_RECIPIENT)
    return value


PhoneNumber = Annotated[str, Field(max_length=16), AfterValidator(_number)]
Recipient = Annotated[str, Field(max_length=310), AfterValidator(_recipient)]


class SignalChannel(ChannelSettings):
    kind: Literal["signal"]
    base_url: HttpUrlText  # where the team's signal-cli-rest-api listens, e.g. http://10.0.0.5:8080
    number: PhoneNumber  # the account registered with signal-cli that sends
    recipients: Annotated[list[Recipient], Field(min_length=1, max_length=50)]


def fit_bytes(text: str, limit: int) -> str:
    """The text cut to at most `limit` UTF-8 bytes, ending in an ellipsis when cut (never in half a character)."""
    if len(text.encode("utf-8")) <= limit:
        return text
    cut = text.encode("utf-8")[: limit - len("…".encode("utf-8"))].decode("utf-8", "ignore")
    return cut + "…"


def render(channel: SignalChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    # Signal shows text as it is: nothing to escape; a link is its bare URL, which the apps make clickable.
    text = fit_bytes(render_text(message, str, lambda url, label: url, MAX_BYTES), MAX_BYTES)
    payload = {"message": text, "number": channel.number, "recipients": list(channel.recipients)}
    return json_request("POST", f"{channel.base_url.rstrip('/')}/v2/send", payload)


KIND = ChannelKind("signal", SignalChannel, render, url_fields=("base_url",), masked_fields=("number", "recipients"),
                   form_fields=("base_url", "number", "recipients"), form_lists=("recipients",))
