"""Channel settings as validated by the API: one model per `channel.kind`."""
from __future__ import annotations

import re
from typing import Annotated, Literal, Union
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ..ssrf import host_problem

EMAIL = re.compile(r"^[^@\s<>,;\"\x00-\x1f\x7f]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$")


def _http_url(value: str) -> str:
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError("not a valid URL") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http or https URL with a host")
    if url.userinfo:
        raise ValueError("must not carry a user name or password")
    try:  # the display reads the port with urllib: it must accept what httpx accepted
        shown_port = urlsplit(value).port
    except ValueError:
        shown_port = -1
    if (url.port is not None and not 1 <= url.port <= 65535) or shown_port == -1 or shown_port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    problem = host_problem(url.raw_host)
    if problem:
        raise ValueError(problem)
    return value


HttpUrlText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_http_url)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\s\x00-\x1f\x7f]+$")]


def _email(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookChannel(_Channel):
    kind: Literal["webhook"]
    url: HttpUrlText


class SlackChannel(_Channel):
    kind: Literal["slack"]
    url: HttpUrlText


class MattermostChannel(_Channel):
    kind: Literal["mattermost"]
    url: HttpUrlText


class TeamsChannel(_Channel):
    kind: Literal["teams"]
    url: HttpUrlText


class DiscordChannel(_Channel):
    kind: Literal["discord"]
    url: HttpUrlText


class MatrixChannel(_Channel):
    kind: Literal["matrix"]
    homeserver: HttpUrlText
    room_id: Annotated[str, StringConstraints(pattern=r"^[!#][^:\s\x00-\x1f\x7f]+:[^\s\x00-\x1f\x7f]+$",
                                              max_length=300)]
    access_token: Secret


class TelegramChannel(_Channel):
    kind: Literal["telegram"]
    bot_token: Secret
    chat_id: Annotated[str, StringConstraints(pattern=r"^(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$")]
    api_base: HttpUrlText = "https://api.telegram.org"


class EmailChannel(_Channel):
    kind: Literal["email"]
    to: list[Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]] = Field(
        min_length=1, max_length=20)


Channel = Annotated[Union[WebhookChannel, SlackChannel, MattermostChannel, TeamsChannel, DiscordChannel,
                          MatrixChannel, TelegramChannel, EmailChannel], Field(discriminator="kind")]
KINDS = ("webhook", "slack", "mattermost", "teams", "discord", "matrix", "telegram", "email")
