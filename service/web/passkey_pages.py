"""The dashboard's passkey routes: JSON for the page's script (service/static/vigil.js), which alone can call
WebAuthn in the browser. A signed-in person registers a passkey; anyone may sign in with one."""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from events.catalogue import ZONE_NAMES
from events.i18n import Said, phrase
from service.api.deps import in_thread
from service.errors import InputError
from service.passkeys import MAX_CREDENTIAL_JSON, PasskeyRefused
from service.people import InvitationGone
from service.signin_throttle import address_subject

from .auth import PageError, Viewer, container, local_path, viewer
from .pages import SIGNIN_COOKIE, client_of, start_session
from .sessions import csrf_ok

router = APIRouter(include_in_schema=False)
REFUSED = "That passkey was not accepted. Sign in with your password and code instead."


async def _json(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise PageError(415, Said(phrase("Send this as application/json.")))
    raw = await request.body()
    if len(raw) > MAX_CREDENTIAL_JSON:
        raise PageError(413, Said(phrase("This credential is too large.")))
    try:
        body = json.loads(raw)
    except ValueError:
        raise PageError(400, Said(phrase("This is not JSON."))) from None
    if not isinstance(body, dict):
        raise PageError(400, Said(phrase("Send a JSON object.")))
    return body


def _person(seen_by: Viewer, request: Request) -> None:
    """Only a person's own session may register a passkey, with its CSRF token in the X-CSRF-Token header."""
    if not seen_by.principal.is_person or seen_by.session is None:
        raise PageError(403, Said(phrase("Only a person signed in with their own account may add a passkey.")))
    if not csrf_ok(seen_by.session.csrf_token, request.headers.get("x-csrf-token")):
        raise PageError(403, Said(phrase("This request did not come from Vigil. Reload and try again.")))


@router.post("/settings/passkeys/options")
def registration_options(request: Request, seen_by: Viewer = Depends(viewer)) -> Response:
    _person(seen_by, request)
    who = seen_by.principal
    return Response(container(request).passkeys.registration_options(who.key_id, who.name),
                    media_type="application/json")


@router.post("/settings/passkeys")
async def register(request: Request, seen_by: Viewer = Depends(viewer)) -> JSONResponse:
    _person(seen_by, request)
    body = await _json(request)
    try:
        await in_thread(container(request).passkeys.register, seen_by.principal.key_id, body.get("credential"))
    except PasskeyRefused:
        raise InputError([{"loc": ["body", "credential"], "msg": "this passkey answers no challenge of yours; "
                           "reload and try again", "type": "value_error"}]) from None
    return JSONResponse({"registered": True}, status_code=201)


# ---- a passkey instead of an authenticator app, while following an invitation (the link is the secret) ----
def _enrolling(request: Request, token: str):
    try:
        found = container(request).people.enrollment(token)
    except InvitationGone as exc:
        raise PageError(410, exc.args[0]) from None
    if found.person is None:
        raise PageError(409, Said(phrase("Choose a password first.")))
    return found.person


@router.post("/welcome/{token}/passkey/options")
def enrollment_options(request: Request, token: str) -> Response:
    person = _enrolling(request, token)
    return Response(container(request).passkeys.registration_options(person.id, person.name),
                    media_type="application/json")


@router.post("/welcome/{token}/passkey")
async def enrollment_passkey(request: Request, token: str) -> JSONResponse:
    person = _enrolling(request, token)
    body = await _json(request)
    try:
        await in_thread(container(request).passkeys.register, person.id, body.get("credential"))
    except PasskeyRefused:
        raise InputError([{"loc": ["body", "credential"], "msg": "this passkey answers no challenge of yours; "
                           "reload and try again", "type": "value_error"}]) from None
    return JSONResponse({"registered": True}, status_code=201)


def _signin_form_token(request: Request) -> None:
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not csrf_ok(expected, request.headers.get("x-csrf-token")):
        raise PageError(403, Said(phrase("The sign-in form expired. Please reload and try again.")))


@router.post("/signin/passkey/options")
def signin_options(request: Request) -> Response:
    _signin_form_token(request)
    return Response(container(request).passkeys.signin_options(), media_type="application/json")


@router.post("/signin/passkey")
async def signin(request: Request) -> JSONResponse:
    box = container(request)
    _signin_form_token(request)
    client = client_of(request)
    _wait(box.people.throttle.wait(address_subject(client)))
    body = await _json(request)
    try:
        person_id = await in_thread(box.passkeys.sign_in, body.get("credential"))
    except PasskeyRefused:
        person_id = None
    who = box.people.may_sign_in(person_id) if person_id else None
    if who is None:
        box.people.passkey_failed(client)
        return JSONResponse({"detail": REFUSED}, status_code=401)
    _wait(box.people.passkey_wait(who.key_id, client))  # a locked-out person waits, whatever they sign in with
    box.people.passkey_signed_in(who.key_id)
    tz = body.get("timezone") if body.get("timezone") in ZONE_NAMES else "UTC"
    response = JSONResponse({"next": local_path(body.get("next") if isinstance(body.get("next"), str) else "/")})
    start_session(request, response, who, tz)
    return response


def _wait(seconds: int | None) -> None:
    if seconds is not None:
        raise PageError(429, Said(phrase("Too many failed sign-ins; wait a while and try again.")),
                        {"Retry-After": str(seconds)})
