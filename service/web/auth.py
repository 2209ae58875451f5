"""Who is looking at a dashboard page (session cookie or bearer key), CSRF checks, and form bodies."""
from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from fastapi import Request

from events.i18n import Said, phrase
from service.access import ROLE_WORDS, Principal
from service.container import Container

from .sessions import COOKIE_NAME, Session, csrf_ok


class SignInRequired(Exception):
    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


class PageError(Exception):
    """Shown as an HTML error page with this status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    timezone: str
    session: Session | None  # None when the page was asked for with a bearer key

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""


class Form:
    """An application/x-www-form-urlencoded body (the dashboard's forms post nothing else)."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs
        self.first = {}
        for key, value in pairs:
            self.first.setdefault(key, value)

    def get(self, name: str, default: str = "") -> str:
        return self.first.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]


def container(request: Request) -> Container:
    return request.app.state.container


def local_path(candidate: str | None, fallback: str = "/") -> str:
    """Only a path on this site may be a redirect target (no scheme, no //host)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return fallback
    return candidate


def throttled(box: Container, request: Request, check) -> None:
    """PageError 429 if `check` (the throttle's blocked or failed) says this address must wait."""
    wait = check(request.client.host if request.client else None)
    if wait is not None:
        raise PageError(429, Said(phrase("Too many failed sign-ins from this address; wait a minute and try again.")),
                        {"Retry-After": str(wait)})


def viewer(request: Request) -> Viewer:
    box = container(request)
    keys_allowed = box.settings.dashboard_key_signin
    session = box.sessions.find(request.cookies.get(COOKIE_NAME))
    if session is not None and not keys_allowed and not session.principal.is_person:
        session = None  # a key's session from before key sign-in was turned off
    if session is not None:
        who, tz = session.principal, session.timezone
    else:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        bearer = keys_allowed and scheme.lower() == "bearer" and key.strip()
        if bearer:
            throttled(box, request, box.auth_throttle.blocked)
        who = box.keys.authenticate(key.strip()) if bearer else None
        if who is None and bearer:
            throttled(box, request, box.auth_throttle.failed)
        if who is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(path)
        tz = "UTC"
    wait = box.rate_limiter.take(who.key_id)
    if wait is not None:
        raise PageError(429, Said(phrase("Too many requests from this key; wait a moment and try again.")),
                        {"Retry-After": str(max(1, math.ceil(wait)))})
    return Viewer(who, tz, session)


async def read_form(request: Request) -> Form:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    raw = await request.body()
    if raw and content_type != "application/x-www-form-urlencoded":
        raise PageError(415, Said(phrase("Forms must be sent as application/x-www-form-urlencoded.")))
    body = raw.decode("utf-8", errors="replace")
    try:
        return Form(parse_qsl(body, keep_blank_values=True, max_num_fields=2000))
    except ValueError:
        raise PageError(413, Said(phrase("This form has too many fields."))) from None


async def posted_form(request: Request, seen_by: Viewer) -> Form:
    """The form of a state-changing request, after its CSRF token is checked (session sign-ins only)."""
    form = await read_form(request)
    if seen_by.session is not None and not csrf_ok(seen_by.session.csrf_token, form.get("csrf_token")):
        raise PageError(403, Said(phrase("This form has expired or did not come from Vigil. Go back, reload and try again.")))
    return form


def require_writer(seen_by: Viewer) -> None:
    if not seen_by.principal.may_write:
        raise PageError(403, Said(phrase("Your role (%(role)s) may read but not change anything.", role=ROLE_WORDS.get(seen_by.principal.role, seen_by.principal.role))))


def signin_redirect(next_path: str) -> str:
    return "/signin?next=" + quote(local_path(next_path), safe="/")
