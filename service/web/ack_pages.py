"""The acknowledge link's page: GET shows what the link would acknowledge and changes nothing (mail scanners and
link previews open links by themselves); only its button, a POST, acknowledges.

No session is involved, so there is no cookie to ride: the token in the path is the whole authority. A cross-site
form could only post a token its author already holds (and could post himself). Still, the POST must carry the
token in its form as well as in its path (a bare POST to the link does nothing), and a browser's Sec-Fetch-Site or
Origin saying another site sent it is refused; framing is refused for every page (security_headers.py).
"""
from __future__ import annotations

import hmac
import math
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from events.i18n import Said, phrase
from service.ack_links import LinkRefused
from service.api.deps import in_thread
from service.client_address import throttle_key

from .auth import PageError, container, read_form
from .pages import client_of, page

router = APIRouter(include_in_schema=False)

REFUSALS = {
    "invalid": phrase("This acknowledge link is not valid: it may have been cut short or changed. "
                      "Open the alert in Vigil to acknowledge it."),
    "expired": phrase("This acknowledge link has expired. Sign in to Vigil to acknowledge the alert."),
    "unsubscribed": phrase("The subscription this message was sent to has been deleted or disabled, so its links no "
                           "longer work. Sign in to Vigil to acknowledge the alert."),
    "acknowledged": phrase("This alert was already acknowledged. Nothing was changed."),
    "withdrawn": phrase("This alert was withdrawn (the event it spoke of was retracted). Nothing was changed."),
}


def _throttle(request: Request) -> None:
    """Every request to a link counts against its address's rate; wrong tokens also against its failures."""
    box = container(request)
    address = client_of(request)
    wait = box.rate_limiter.take(f"ack:{throttle_key(address)}")
    if wait is None:
        waited = box.auth_throttle.blocked(address)
        wait = float(waited) if waited is not None else None
    if wait is not None:
        raise PageError(429, Said(phrase("Too many acknowledge links tried from this address; wait a minute and "
                                         "try again.")), {"Retry-After": str(max(1, math.ceil(wait)))})


def _refused(request: Request, exc: LinkRefused) -> HTMLResponse:
    if exc.reason == "invalid":
        container(request).auth_throttle.failed(client_of(request))
    return page(request, "ack.html", None, exc.status, refusal=Said(REFUSALS[exc.reason]), alert=exc.alert)


def _same_site(request: Request) -> bool:
    """False when the browser says another site sent this form. Sec-Fetch-Site first: under our no-referrer policy
    Chromium sends `Origin: null` even from our own page; else an Origin that is not null must be ours."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        public = urlsplit(container(request).settings.public_url)
        return origin in (f"{request.url.scheme}://{request.url.netloc}", f"{public.scheme}://{public.netloc}")
    return True


@router.get("/ack/{token}")
async def ack_page(request: Request, token: str) -> HTMLResponse:
    _throttle(request)
    try:
        found = await in_thread(container(request).ack_links.target, token)
    except LinkRefused as exc:
        return _refused(request, exc)
    return page(request, "ack.html", None, alert=found.alert, target=found, token=token)


@router.post("/ack/{token}")
async def ack(request: Request, token: str) -> HTMLResponse:
    _throttle(request)
    form = await read_form(request)
    if not _same_site(request) or not hmac.compare_digest(form.get("token").encode(), token.encode()):
        raise PageError(403, Said(phrase("This form did not come from the acknowledge page. Open the link from "
                                         "the message again.")))
    try:
        found = await in_thread(container(request).ack_links.acknowledge, token, "/ack", client_of(request))
    except LinkRefused as exc:
        return _refused(request, exc)
    return page(request, "ack.html", None, alert=found.alert, target=found, done=True)
