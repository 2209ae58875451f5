"""The field types channel settings share (URLs, secrets, email addresses); each channel module has its model."""
from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

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


EmailAddress = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]


class ChannelSettings(BaseModel):
    """The base of every channel model: unknown fields refused, values never changed after validation."""
    model_config = ConfigDict(extra="forbid", frozen=True)
