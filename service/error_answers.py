"""Every error a request can end in, mapped in one place to its status and message: JSON under /v1, a page
elsewhere (the dashboard)."""
from __future__ import annotations

from typing import Callable

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from events.i18n import Said, phrase
from events.store import ConcurrencyConflict, DuplicateMismatch, IdempotencyMismatch, StreamNotFound

from .api.deps import checked_before_invalid, invalid_headers
from .errors import AlreadyErased, Conflict, Forbidden, InputError, NotFound, NotYetRecorded, Unauthorized
from .web.auth import PageError, SignInRequired, signin_redirect
from .web.pages import error_page

# The dashboard's words for what was not found, in the reader's language; the API says "<what> not found".
NO_SUCH = {"case": Said(phrase("No such case, or your team may not see it.")),
           "alert": Said(phrase("No such alert, or your team may not see it.")),
           "subscription": Said(phrase("No such subscription, or it belongs to another team.")),
           "delivery": Said(phrase("No such delivery, or it belongs to another team.")),
           "person": Said(phrase("No such person.")),
           "calendar link": Said(phrase("No such calendar link of yours."))}
ERASED = Said(phrase("personal data of this case was already erased"))


def _missing(exc: NotFound) -> tuple[int, str, str]:
    said = f"{exc.what} not found" + (f": {', '.join(exc.ids)}" if exc.named else "")
    return 404, said, NO_SUCH[exc.what]


def shown(exc: Exception) -> str:
    """A refusal's words for the dashboard: the phrase it was raised with (said in the reader's language by the
    page), else its message as it is."""
    words = exc.args[0] if exc.args else ""
    return words if isinstance(words, Said) else str(exc)


# Each refusal: (status, the API's message (English, for machines), the dashboard's message).
REFUSALS: dict[type[Exception], Callable[[Exception], tuple[int, str, str]]] = {
    NotFound: _missing,
    StreamNotFound: lambda exc: (404, "case not found", NO_SUCH["case"]),
    NotYetRecorded: lambda exc: (404, str(exc), shown(exc)),
    Unauthorized: lambda exc: (401, str(exc), shown(exc)),
    Forbidden: lambda exc: (403, str(exc), shown(exc)),
    Conflict: lambda exc: (409, str(exc), shown(exc)),
    AlreadyErased: lambda exc: (409, str(ERASED), ERASED),
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith(("/v1/", "/integrations/"))  # chat services' callbacks get JSON too


async def refused(request: Request, exc: Exception) -> Response:
    status, said, shown = next(answer for kind, answer in REFUSALS.items() if isinstance(exc, kind))(exc)
    if is_api(request):
        return JSONResponse({"detail": said}, status_code=status)
    return error_page(request, status, shown)


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    # A write route that checks its caller late (service/api/deps.py) still refuses an unknown key first.
    refusal = await checked_before_invalid(request)
    if refusal is not None:
        return await http_exception_handler(request, refusal)
    # Never echo the input back: it may carry personal data.
    detail = invalid_headers(request) + [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def bad_input(_: Request, exc: InputError) -> Response:
    return JSONResponse({"detail": exc.detail}, status_code=422)


async def conflict(_: Request, exc: ConcurrencyConflict) -> Response:
    return JSONResponse({"detail": str(exc), "current_version": exc.actual}, status_code=409)


async def duplicate(_: Request, exc: DuplicateMismatch) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def reused_key(_: Request, exc: IdempotencyMismatch) -> Response:
    return JSONResponse({"detail": [{"loc": ["header", "Idempotency-Key"], "msg": str(exc),
                                     "type": "idempotency_key_reused"}]}, status_code=422)


async def sign_in(_: Request, exc: SignInRequired) -> Response:
    return RedirectResponse(signin_redirect(exc.next_path), status_code=303)


async def page_error(request: Request, exc: PageError) -> Response:
    return error_page(request, exc.status, exc.message, exc.headers)


def add_error_handlers(app: FastAPI) -> None:
    for kind in REFUSALS:
        app.add_exception_handler(kind, refused)
    for kind, handler in ((RequestValidationError, invalid_request), (InputError, bad_input),
                          (ConcurrencyConflict, conflict), (DuplicateMismatch, duplicate),
                          (IdempotencyMismatch, reused_key), (SignInRequired, sign_in), (PageError, page_error)):
        app.add_exception_handler(kind, handler)
