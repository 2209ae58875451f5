"""The dashboard: server-rendered pages over the same services as the API (sign-in, cases, alerts, subscriptions)."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from events.catalogue import EVENT_TYPES, ZONE_NAMES
from events.risk import LEVELS
from notifications.rules import SEVERITIES
from notifications.subscriptions import SubscriptionIn
from service.cases import CaseFilters
from service.errors import Conflict, Forbidden, InputError, NotFound, NotYetRecorded
from service.people import STEP_LIFETIME, InvitationGone, SignInRefused, StepGone
from service.dossier import DOSSIER_CSP, dossier_html
from service.schemas import CaseIn, EventIn
from service.access import ROLES
from service.api.deps import in_thread
from service.api.users import InvitationIn

from events.event_names import PRECISIONS as PRECISIONS_SAID, state_value
from events.i18n import NAMES as LANGUAGE_NAMES, Said, direction, offered, phrase, words_of

from . import display, language
from .auth import (
    Form, PageError, Viewer, container, local_path, posted_form, read_form, require_writer, throttled,
    viewer,
)
from .forms import (
    CHANNEL_KINDS, ESCALATION_KINDS, FORM_LEVEL, KINDS_USING, PRECISIONS, appendable_types, case_body, data_errors,
    errors_by_field, event_body, event_fields, plain, subscription_body, subscription_errors, validate,
)
from .sessions import COOKIE_NAME, LIFETIME, csrf_ok

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates" / "web"))
templates.env.filters.update(local_time=language.localized(display.local_time), humanize=display.humanize,
                             status_label=display.status_phrase, type_name=display.type_phrase,
                             field_name=display.field_phrase, group_name=display.group_phrase,
                             state_value=state_value,
                             datum=display.datum, event_name=display.event_name)
templates.env.tests["empty"] = display.is_empty
language.install(templates.env)
SIGNIN_COOKIE = "vigil_signin"  # the sign-in form's own CSRF token (double submit), before any session exists
STEP_COOKIE = "vigil_signin_step"  # the half-signed-in state between the password and the second factor
STATUSES = list(display.STATUS_LABELS)
INBOX_SIZE = 200
LIVE_PAGES = {"cases.html", "case.html", "alerts.html"}  # the pages that update themselves (service/web/live.py)
TIMEZONES = sorted(z for z in ZONE_NAMES if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def page(request: Request, name: str, seen_by: Viewer | None, status: int = 200, **context: Any) -> HTMLResponse:
    box = container(request)
    now = box.clock.now()
    tz = seen_by.timezone if seen_by else "UTC"
    lang = language.request_language(request)
    base = {"lang": lang, "dir": direction(lang), "languages": _languages(), "state_words": STATE_WORDS,
            "precision_words": PRECISIONS_SAID, "countdown_words": language.countdown_words(lang), "viewer": seen_by, "who": seen_by.principal if seen_by else None, "now": now, "tz": tz,
            "csrf": seen_by.csrf_token if seen_by else "", "countdown": lambda at: display.countdown(at, now, lang),
            "path": request.url.path}
    if name in LIVE_PAGES and seen_by is not None and box.live is not None:
        base["live_since"] = box.live.changes.head()  # the stream tells of what came after this page was read
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def _languages() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in offered()]


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The dashboard's answer to a request it refuses (service/error_answers.py decides status and message)."""
    lang = language.request_language(request)
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": message, "lang": lang,
                                                              "dir": direction(lang), "path": request.url.path},
                                      status_code=status, headers=headers)


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


# ---- signing in and out ----
@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> HTMLResponse:
    return signin_form(request, next)


def signin_form(request: Request, next_path: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    """The sign-in page; `error` is only ever one of this module's own messages, never taken from the URL."""
    token = secrets.token_urlsafe(32)
    response = page(request, "signin.html", None, status, next=local_path(next_path), error=error, signin_token=token,
                    timezones=TIMEZONES, key_signin=container(request).settings.dashboard_key_signin)
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=_secure(request), path="/signin")
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or container(request).settings.public_url.startswith("https://")


@router.post("/signin")
async def signin(request: Request):
    box = container(request)
    form = await read_form(request)
    next_path = local_path(form.get("next"))
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not csrf_ok(expected, form.get("csrf_token")):
        return signin_form(request, next_path, Said(phrase("The sign-in form expired. Please try again.")), 403)
    tz = form.get("timezone") if form.get("timezone") in ZONE_NAMES else "UTC"
    if form.get("api_key").strip():
        throttled(box, request, box.auth_throttle.blocked)
        if not box.settings.dashboard_key_signin:
            return signin_form(request, next_path, Said(phrase(
                "Signing in with an API key is turned off here. Sign in with your account.")), 403)
        who = box.keys.authenticate(form.get("api_key").strip())
        if who is None:
            throttled(box, request, box.auth_throttle.failed)
            return signin_form(request, next_path, Said(phrase("That API key is not valid or has been revoked.")), 401)
        return start_session(request, redirect(next_path), who, tz)
    try:
        person_id = await in_thread(box.people.password_step, form.get("account")[:300], form.get("password"),
                                    client_of(request))
    except SignInRefused as exc:
        if exc.retry_after is not None:
            raise _too_many(exc.retry_after) from None
        return signin_form(request, next_path, Said(phrase(
            "The account or password is not right. Please try again.")), 401)
    response = redirect("/signin/code")
    response.set_cookie(STEP_COOKIE, box.people.start_step(person_id, next_path, tz),
                        max_age=int(STEP_LIFETIME.total_seconds()), httponly=True, samesite="strict",
                        secure=_secure(request), path="/signin")
    return response


def _too_many(retry_after: int) -> PageError:
    return PageError(429, Said(phrase("Too many failed sign-ins; wait a while and try again.")),
                     {"Retry-After": str(retry_after)})


def code_form(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    """The second step's page: a code from the authenticator app or a recovery code."""
    token = secrets.token_urlsafe(32)
    response = page(request, "signin_code.html", None, status, error=error, signin_token=token)
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=_secure(request), path="/signin")
    response.headers["Cache-Control"] = "no-store"
    return response


def _start_again(request: Request) -> HTMLResponse:
    response = signin_form(request, "/", Said(phrase(
        "Your sign-in took too long or was stopped. Please start again.")), 401)
    response.delete_cookie(STEP_COOKIE, path="/signin")
    return response


@router.get("/signin/code")
def signin_code_page(request: Request):
    if container(request).people.step_of(request.cookies.get(STEP_COOKIE)) is None:
        return redirect("/signin")
    return code_form(request)


@router.post("/signin/code")
async def signin_code(request: Request):
    box = container(request)
    form = await read_form(request)
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not csrf_ok(expected, form.get("csrf_token")):
        return code_form(request, Said(phrase("The sign-in form expired. Please try again.")), 403)
    try:
        who, next_path, tz = await in_thread(box.people.code_step, request.cookies.get(STEP_COOKIE),
                                             form.get("code")[:100], client_of(request))
    except StepGone:
        return _start_again(request)
    except SignInRefused as exc:
        if exc.retry_after is not None:
            raise _too_many(exc.retry_after) from None
        if box.people.step_of(request.cookies.get(STEP_COOKIE)) is None:
            return _start_again(request)
        return code_form(request, Said(phrase("That code is not right. Please try again.")), 401)
    response = start_session(request, redirect(local_path(next_path)), who, tz)
    response.delete_cookie(STEP_COOKIE, path="/signin")
    return response


def start_session(request: Request, response, who, tz: str):
    """Start a session for `who` and hand its cookie to the browser with `response`; a person's dashboard language
    is kept, for what Vigil emails them."""
    cookie = container(request).sessions.start(who, tz, client_of(request))
    if who.is_person:
        container(request).people.remember_language(who.key_id, language.request_language(request))
    response.set_cookie(COOKIE_NAME, cookie, max_age=int(LIFETIME.total_seconds()), httponly=True,
                        samesite="strict", secure=_secure(request), path="/")
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


# ---- following an invitation: a password, then TOTP, then the recovery codes once ----
def _welcome_page(request: Request, token: str, step: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("errors", {})
    response = page(request, "welcome.html", None, status, token=token, step=step, **context)
    response.headers["Cache-Control"] = "no-store"  # the QR code and the recovery codes are secrets
    response.headers["Referrer-Policy"] = "no-referrer"  # the link itself is one too
    return response


def _totp_step(request: Request, token: str, found, status: int = 200, **context: Any) -> HTMLResponse:
    secret, svg = container(request).people.totp_setup(found)
    return _welcome_page(request, token, "totp", status, person=found.person, secret=secret, qr=Markup(svg),
                         **context)


@router.get("/welcome/{token}")
def welcome(request: Request, token: str):
    try:
        found = container(request).people.enrollment(token)
    except InvitationGone as exc:
        return _welcome_page(request, "", "gone", 410, message=exc.args[0])
    return _welcome_page(request, token, "password", invitation=found.invitation)


@router.post("/welcome/{token}")
async def welcome_password(request: Request, token: str):
    form = await read_form(request)
    people = container(request).people
    try:
        found = await in_thread(people.choose_password, token, form.get("password"), form.get("confirm"))
    except InvitationGone as exc:
        return _welcome_page(request, "", "gone", 410, message=exc.args[0])
    except InputError as exc:
        return page(request, "welcome.html", None, 422, token=token, step="password",
                    invitation=people.enrollment(token).invitation, errors=errors_by_field(exc.detail))
    return _totp_step(request, token, found)


@router.post("/welcome/{token}/totp")
async def welcome_totp(request: Request, token: str):
    form = await read_form(request)
    people = container(request).people
    try:
        codes = people.confirm_totp(token, form.get("code")[:100])
    except InvitationGone as exc:
        return _welcome_page(request, "", "gone", 410, message=exc.args[0])
    except Conflict:
        return redirect(f"/welcome/{token}")
    except InputError as exc:
        return _totp_step(request, token, people.enrollment(token), 422, errors=errors_by_field(exc.detail))
    return _welcome_page(request, "", "done", recovery_codes=codes)


@router.post("/welcome/{token}/passkey/finish")
async def welcome_passkey(request: Request, token: str):
    await read_form(request)
    box = container(request)
    try:
        codes = box.people.finish_with_passkey(token, box.passkeys.has_any)
    except InvitationGone as exc:
        return _welcome_page(request, "", "gone", 410, message=exc.args[0])
    except Conflict:
        return redirect(f"/welcome/{token}")
    except InputError as exc:
        return _totp_step(request, token, box.people.enrollment(token), 422, errors=errors_by_field(exc.detail))
    return _welcome_page(request, "", "done", recovery_codes=codes)


@router.post("/signout")
async def signout(request: Request, seen_by: Viewer = Depends(viewer)):
    await posted_form(request, seen_by)
    if seen_by.session:
        container(request).sessions.end(seen_by.session)
    response = redirect("/signin")
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


def _settings_page(request: Request, seen_by: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    box = container(request)
    who = seen_by.principal
    sessions = box.sessions.of_person(who.key_id) if who.is_person else []
    context.setdefault("errors", {})
    context.setdefault("values", Form([]))
    keys = box.passkeys.of_person(who.key_id) if who.is_person else []
    return page(request, "settings.html", seen_by, status, timezones=TIMEZONES, sessions=sessions, passkeys=keys,
                people=box.people.list() if who.is_admin else [], roles=ROLES,
                calendar_links=[c for c in box.calendar.list(who) if not c["revoked_at"]], **context)


@router.get("/settings")
def settings_page(request: Request, seen_by: Viewer = Depends(viewer)):
    return _settings_page(request, seen_by)


@router.post("/settings/sessions/end")
async def end_session(request: Request, seen_by: Viewer = Depends(viewer)):
    form = await posted_form(request, seen_by)
    who = seen_by.principal
    if not who.is_person or not container(request).sessions.end_own(who.key_id, form.get("session")):
        raise PageError(404, Said(phrase("No such session of yours.")))
    if seen_by.session and seen_by.session.id_hash == form.get("session"):
        response = redirect("/signin")
        response.delete_cookie(COOKIE_NAME, path="/")
        return response
    return redirect("/settings")


@router.post("/settings/invitations")
async def invite_person(request: Request, seen_by: Viewer = Depends(viewer)):
    form = await posted_form(request, seen_by)
    if not seen_by.principal.is_admin:
        raise PageError(403, Said(phrase("Only an admin may invite a person.")))
    body, errors = validate(InvitationIn, {"role": form.get("role"), "team": form.get("team").strip(),
                                           "name": form.get("name"), "email": form.get("email").strip() or None})
    if body is not None:
        try:
            made = container(request).people.invite(seen_by.principal, body.role, body.team, body.name, body.email)
        except Conflict as exc:
            errors = {"name": plain({"msg": str(exc)})}
        else:
            return _settings_page(request, seen_by, 201, invited=made, invited_name=body.name)
    return _settings_page(request, seen_by, 422, errors=errors, values=form)


@router.post("/settings/calendar")
async def create_calendar_link(request: Request, seen_by: Viewer = Depends(viewer)):
    """A new secret calendar address, shown on the page this once."""
    form = await posted_form(request, seen_by)
    made = await in_thread(container(request).calendar.create, seen_by.principal,
                           form.get("include_names") == "on", language.request_language(request))
    return _settings_page(request, seen_by, 201, calendar_url=made.url)


@router.post("/settings/calendar/{link_id}/revoke")
async def revoke_calendar_link(request: Request, link_id: str, seen_by: Viewer = Depends(viewer)):
    await posted_form(request, seen_by)
    await in_thread(container(request).calendar.revoke, seen_by.principal, link_id)
    return redirect("/settings")


@router.post("/settings/people/{person_id}/disable")
async def disable_person(request: Request, person_id: str, seen_by: Viewer = Depends(viewer)):
    await posted_form(request, seen_by)
    if not seen_by.principal.is_admin:
        raise PageError(403, Said(phrase("Only an admin may disable a person.")))
    await in_thread(container(request).people.disable, person_id)
    return redirect("/settings")


@router.post("/settings/people/{person_id}/unlock")
async def unlock_person(request: Request, person_id: str, seen_by: Viewer = Depends(viewer)):
    await posted_form(request, seen_by)
    if not seen_by.principal.is_admin:
        raise PageError(403, Said(phrase("Only an admin may unlock a person.")))
    await in_thread(container(request).people.unlock, person_id)
    return redirect("/settings")


@router.post("/language")
async def set_language(request: Request):
    """The language picker (signed in or not): a cookie for a year; an unknown choice falls back to the browser's."""
    form = await read_form(request)
    response = redirect(local_path(form.get("next")))
    chosen = form.get("lang")
    if chosen in offered():
        session = container(request).sessions.find(request.cookies.get(COOKIE_NAME))
        if session is not None and session.principal.is_person:
            container(request).people.remember_language(session.principal.key_id, chosen)
        response.set_cookie(language.COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=_secure(request), path="/")
    else:
        response.delete_cookie(language.COOKIE, path="/")
    return response


@router.post("/settings/timezone")
async def set_timezone(request: Request, seen_by: Viewer = Depends(viewer)):
    form = await posted_form(request, seen_by)
    tz = form.get("timezone")
    if tz not in ZONE_NAMES:
        raise PageError(422, Said(phrase("'%(zone)s' is not a time zone.", zone=tz)))
    if seen_by.session:
        container(request).sessions.set_timezone(seen_by.session, tz)
    return redirect(local_path(form.get("next")))


# ---- cases ----
@router.get("/")
def case_list(request: Request, status: str = "", risk: str = "", country: str = "", tag: str = "", q: str = "",
              seen_by: Viewer = Depends(viewer)):
    box = container(request)
    box.access_log.record(seen_by.principal, "list", None, request.url.path, client_of(request))
    filters = CaseFilters(status or None, risk or None, country.strip().upper() or None, tag.strip() or None,
                          q.strip()[:200] or None)
    cases, more = box.cases.list(seen_by.principal, filters, limit=200)
    return page(request, "cases.html", seen_by, cases=cases, more=more is not None, filters=filters,
                statuses=STATUSES, levels=list(reversed(LEVELS)))


def _new_case_page(request: Request, seen_by: Viewer, errors: dict[str, str] | None = None,
                   values: Form | None = None, status: int = 200) -> HTMLResponse:
    return page(request, "new_case.html", seen_by, status, errors=errors or {}, values=values or Form([]),
                precisions=PRECISIONS, timezones=TIMEZONES, form_level=FORM_LEVEL)


@router.get("/cases/new")
def new_case_form(request: Request, seen_by: Viewer = Depends(viewer)):
    require_writer(seen_by)
    return _new_case_page(request, seen_by)


@router.post("/cases/new")
async def open_case(request: Request, seen_by: Viewer = Depends(viewer)):
    form = await posted_form(request, seen_by)
    require_writer(seen_by)
    body, unreadable = case_body(form.first, seen_by.timezone)
    parsed, errors = validate(CaseIn, body)
    errors.update(unreadable)  # every problem at once; a value that could not even be read says so
    if errors:
        return _new_case_page(request, seen_by, errors, form, 422)
    result = container(request).cases.open_case(seen_by.principal, parsed)
    return redirect(f"/cases/{result.stream_id}?appended=CaseOpened")


def _case_page(request: Request, seen_by: Viewer, case_id: str, as_of: str = "", type_name: str = "",
               errors: dict[str, str] | None = None, values: Form | None = None, status: int = 200,
               notice: str = "") -> HTMLResponse:
    box = container(request)
    who = seen_by.principal
    try:
        moment = display.end_of_day(as_of, seen_by.timezone) if as_of else None
    except ValueError:
        moment, notice = None, Said(phrase("That 'as of' date could not be read; showing the case as it is now."))
    case = None
    try:
        if moment is not None:
            case = box.cases.status(who, case_id, moment, None)
    except NotYetRecorded as exc:
        moment, notice = None, Said(phrase("Nothing to show as of %(day)s: %(why)s. Showing the case as it is now.", day=as_of, why=words_of(exc.args[0])))
    if case is None:
        case = box.cases.view(who, case_id)
    events = box.cases.events(who, case_id)
    box.access_log.record(who, "read_status" if moment else "read", case_id, request.url.path, client_of(request))
    alerts = box.alerts.for_case(who, case_id)
    by_event: dict[str, list[dict]] = {}
    for alert in alerts:
        by_event.setdefault(alert["event_id"] or "", []).append(alert)
    shown = [e for e in events if moment is None or display.as_datetime(e["occurred_at"]) <= moment]
    for e in shown:  # a summary written after the day looked back to may tell of what came later
        if moment and e["type"] == "CaseOpened" and e["data"].get("summary") and \
                display.as_datetime(e["recorded_at"]) > moment:
            e["data"]["summary"] = Said(phrase("(written later; not shown as of this date)"))
    type_name = type_name if type_name in EVENT_TYPES and not EVENT_TYPES[type_name].system_only else ""
    retracted = {e["event_id"]: e for e in events if e["type"] == "EventRetracted"}
    team = None if who.is_admin else who.team
    actors = {**box.keys.actor_names(team), **box.people.actor_names(team)}
    return page(request, "case.html", seen_by, status, case=case, events=list(reversed(shown)),
                hidden_later=len(events) - len(shown), as_of=as_of if moment else "", alerts_by_event=by_event,
                other_alerts=by_event.get("", []), retractions=retracted, type_name=type_name,
                fields=event_fields(type_name) if type_name else [], type_groups=appendable_types(),
                errors=errors or {}, values=values or Form([]), precisions=PRECISIONS, notice=notice,
                event_refs=[e for e in events if e["type"] not in ("CaseOpened",)], form_level=FORM_LEVEL,
                actors=actors, live_case=case_id,
                now_local=box.clock.now().astimezone(display.zone(seen_by.timezone)).strftime("%Y-%m-%dT%H:%M"))


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, as_of: str = "", type: str = "", appended: str = "",
              seen_by: Viewer = Depends(viewer)):
    notice = Said(phrase("Recorded: %(type)s.", type=display.type_phrase(appended))) if appended in EVENT_TYPES else ""
    if appended == "CaseOpened":
        notice = Said(phrase("Case opened. Record what has happened so far below."))
    return _case_page(request, seen_by, case_id, as_of, type, notice=notice)


@router.post("/cases/{case_id}/events")
async def append_event(request: Request, case_id: str, seen_by: Viewer = Depends(viewer)):
    form = await posted_form(request, seen_by)
    require_writer(seen_by)
    box = container(request)
    type_name = form.get("type")
    if type_name not in EVENT_TYPES or EVENT_TYPES[type_name].system_only or type_name == "CaseOpened":
        return _case_page(request, seen_by, case_id, errors={"type": Said(phrase("choose a type of event"))}, values=form,
                          status=422)
    body, unreadable = event_body(type_name, form.first, seen_by.timezone)
    parsed, errors = validate(EventIn, body)
    errors.update(data_errors(EVENT_TYPES[type_name].model, body["data"]))  # here, so the words are plain
    errors.update(unreadable)
    if not errors:
        try:
            box.cases.append(seen_by.principal, case_id, parsed)
        except InputError as exc:
            errors = errors_by_field(exc.detail)
    if errors:
        return _case_page(request, seen_by, case_id, type_name=type_name, errors=errors, values=form, status=422)
    return redirect(f"/cases/{case_id}?appended={type_name}")


@router.get("/cases/{case_id}/dossier")
def dossier(request: Request, case_id: str, seen_by: Viewer = Depends(viewer)):
    box = container(request)
    box.cases.require_case(seen_by.principal, case_id)
    box.access_log.record(seen_by.principal, "export", case_id, request.url.path, client_of(request))
    return HTMLResponse(dossier_html(box.cases.export(seen_by.principal, case_id,
                                                      box.alerts.for_case(seen_by.principal, case_id)),
                                     box.clock.now()),
                        headers={"Content-Security-Policy": DOSSIER_CSP})


# ---- alerts ----
ALERT_STATES = ("open", "acknowledged", "withdrawn", "all")
STATE_WORDS = {"open": phrase("Open"), "acknowledged": phrase("Acknowledged"), "withdrawn": phrase("Withdrawn"),
               "all": phrase("All")}
BULK_LIMIT = 500


def inbox_groups(items: list[dict[str, Any]], open_first: bool) -> list[tuple[str, list[dict[str, Any]]]]:
    """Alerts grouped by case: the case with the most severe alert first, then the most recently raised; within a
    case, the most severe first when acting on open alerts, else the newest."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for alert in items:  # newest first already
        groups.setdefault(alert["case_id"], []).append(alert)
    rank = SEVERITIES.index
    for alerts in groups.values():
        if open_first:
            alerts.sort(key=lambda a: -rank(a["severity"]))  # stable: newest first within a severity
    ordered = sorted(groups.items(), key=lambda g: max(a["raised_at"] for a in g[1]), reverse=True)
    ordered.sort(key=lambda g: -max(rank(a["severity"]) for a in g[1]))  # stable: newest first within a severity
    return ordered


def _inbox_path(state: str, severity: str) -> str:
    return f"/alerts?state={state}" + (f"&severity={severity}" if severity else "")


def _cases_of(request: Request, seen_by: Viewer, items: list[dict[str, Any]]) -> dict[str, Any]:
    box = container(request)
    cases = {}
    for case_id in {a["case_id"] for a in items}:
        try:
            cases[case_id] = box.cases.view(seen_by.principal, case_id)
        except NotFound:
            continue
    return cases


@router.get("/alerts")
def alert_inbox(request: Request, state: str = "open", severity: str = "", seen_by: Viewer = Depends(viewer)):
    box = container(request)
    box.access_log.record(seen_by.principal, "list", None, request.url.path, client_of(request))  # shows names
    state = state if state in ALERT_STATES else "open"
    severity = severity if severity in SEVERITIES else ""
    items = box.alerts.list_alerts(seen_by.principal, state=state, severity=severity or None, limit=INBOX_SIZE)
    return page(request, "alerts.html", seen_by, groups=inbox_groups(items, state == "open"), count=len(items),
                state=state, severity=severity, severities=SEVERITIES[::-1], states=ALERT_STATES,
                here=_inbox_path(state, severity), inbox_path=_inbox_path, cases=_cases_of(request, seen_by, items),
                full=len(items) == INBOX_SIZE,
                actors=box.keys.actor_names(None if seen_by.principal.is_admin else seen_by.principal.team))


@router.post("/alerts/ack")
async def acknowledge_many(request: Request, seen_by: Viewer = Depends(viewer)):
    """The inbox's one form: acknowledge one alert, all of a case's or the ticked ones, after a confirmation page
    that lists exactly what will be acknowledged (its second submit carries `confirm=yes` and those ids)."""
    form = await posted_form(request, seen_by)
    require_writer(seen_by)
    box = container(request)
    back = local_path(form.get("next"), "/alerts")
    who = seen_by.principal
    if form.get("case"):
        ids = [a["id"] for a in box.alerts.list_alerts(who, case_id=form.get("case"), state="open", limit=BULK_LIMIT)]
    else:
        ids = [form.get("one")] if form.get("one") else form.getlist("ids")
    ids = list(dict.fromkeys(i for i in ids if i))[:BULK_LIMIT]
    if form.get("confirm") == "yes":
        box.alerts.acknowledge_many(who, ids)
        return redirect(back)
    chosen = box.alerts.list_alerts(who, state="open", limit=BULK_LIMIT, ids=ids) if ids else []
    return page(request, "alerts_confirm.html", seen_by, 200 if chosen else 422, alerts=chosen, back=back,
                cases=_cases_of(request, seen_by, chosen))


@router.post("/alerts/{alert_id}/ack")
async def acknowledge(request: Request, alert_id: str, seen_by: Viewer = Depends(viewer)):
    form = await posted_form(request, seen_by)
    require_writer(seen_by)
    container(request).alerts.acknowledge(seen_by.principal, alert_id)
    return redirect(local_path(form.get("next"), "/alerts"))


# ---- subscriptions and deliveries ----
def _subscriptions_page(request: Request, seen_by: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    box = container(request)
    who = seen_by.principal
    items = box.subscription_service.list(who)
    failing = box.alerts.list_deliveries(who, state="dead", limit=50) + box.alerts.list_deliveries(
        who, state="failed", limit=50)
    context.setdefault("values", Form([]))
    context.setdefault("errors", {})
    return page(request, "subscriptions.html", seen_by, status, subscriptions=items, failing=failing,
                channel_kinds=CHANNEL_KINDS, kinds_using=KINDS_USING, escalation_kinds=ESCALATION_KINDS,
                event_types=list(EVENT_TYPES), form_level=FORM_LEVEL,
                severities=list(SEVERITIES), **context)


@router.get("/subscriptions")
def subscriptions_page(request: Request, seen_by: Viewer = Depends(viewer)):
    return _subscriptions_page(request, seen_by)


@router.post("/subscriptions")
async def create_subscription(request: Request, seen_by: Viewer = Depends(viewer)):
    form = await posted_form(request, seen_by)
    require_writer(seen_by)
    body, errors = validate(SubscriptionIn, subscription_body(form.first, form.getlist("event_types")),
                            subscription_errors)
    if body is not None:
        try:
            created = container(request).subscription_service.subscribe(seen_by.principal, body)
        except Forbidden as exc:
            errors = {FORM_LEVEL: exc.args[0]}  # a Said: the page says it in the reader's language
        except InputError as exc:
            errors = subscription_errors(exc.detail)
        else:
            return _subscriptions_page(request, seen_by, 201, created=created)
    return _subscriptions_page(request, seen_by, 422, errors=errors, values=form)


@router.get("/subscriptions/{sub_id}")
def subscription_page(request: Request, sub_id: str, seen_by: Viewer = Depends(viewer)):
    sub = container(request).subscription_service.own(seen_by.principal, sub_id)
    items = container(request).alerts.list_deliveries(seen_by.principal, subscription_id=sub_id, limit=100)
    return page(request, "subscription.html", seen_by, sub=sub, deliveries=items, language_names=LANGUAGE_NAMES)


@router.post("/subscriptions/{sub_id}/test")
async def test_subscription(request: Request, sub_id: str, seen_by: Viewer = Depends(viewer)):
    await posted_form(request, seen_by)
    require_writer(seen_by)
    await container(request).subscription_service.send_test(seen_by.principal, sub_id)
    return redirect(f"/subscriptions/{sub_id}")


@router.post("/subscriptions/{sub_id}/delete")
async def delete_subscription(request: Request, sub_id: str, seen_by: Viewer = Depends(viewer)):
    await posted_form(request, seen_by)
    require_writer(seen_by)
    container(request).subscription_service.unsubscribe(seen_by.principal, sub_id)
    return redirect("/subscriptions")


@router.post("/deliveries/{delivery_id}/retry")
async def retry_delivery(request: Request, delivery_id: str, seen_by: Viewer = Depends(viewer)):
    form = await posted_form(request, seen_by)
    require_writer(seen_by)
    box = container(request)
    box.alerts.replay(seen_by.principal, delivery_id)
    box.worker.wake()
    return redirect(local_path(form.get("next"), "/subscriptions"))
