"""The FastAPI app factory: routers, error shapes, body limit; everything it uses comes from the container."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from events.store import ConcurrencyConflict, DuplicateMismatch, IdempotencyMismatch, StreamNotFound

from .api import alerts, audit, cases, feed, health, metrics
from .api_docs import add_api_docs
from .body_limit import BodyLimitMiddleware
from .cases import InputError, NotFound
from .container import Container
from .control_chars import ControlCharacterMiddleware
from .http_metrics import MetricsMiddleware
from .keys import bootstrap_admin
from .metrics import process_exit
from .request_log import RequestLogMiddleware
from .scheduler import start_scheduler
from .security_headers import SecurityHeadersMiddleware
from .web import pages
from .web.auth import PageError, SignInRequired, signin_redirect

log = logging.getLogger("vigil.api")


def create_app(box: Container, run_worker: bool | None = None) -> FastAPI:
    run_worker = box.settings.run_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Blocking reads and appends go to the loop's default pool (deps.in_thread); asyncio sizes it at
        # cores + 4, which a database slow to grant its write lock could fill, stalling every read behind it.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=40, thread_name_prefix="vigil"))
        bootstrap_admin(box.engine, box.clock, box.settings.bootstrap_admin_key)
        stop = asyncio.Event()
        task = asyncio.create_task(box.worker.run_forever(stop)) if run_worker else None
        scheduler = start_scheduler(box) if run_worker else None
        yield
        stop.set()
        if scheduler:
            scheduler.shutdown(wait=True)
        if task:
            await task
        process_exit()

    app = FastAPI(title="Vigil", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Event-sourced alerting for people at risk of forced return.")
    app.state.container = box
    for router in (health.router, metrics.router, cases.router, feed.router, alerts.router, audit.router,
                   pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("service", "static")]), name="static")
    add_api_docs(app)
    _error_handlers(app)
    _page_error_handlers(app)
    app.add_middleware(ControlCharacterMiddleware)  # innermost: its 404s and 422s still get headers and a log line
    app.add_middleware(BodyLimitMiddleware, max_bytes=box.settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(MetricsMiddleware)  # outermost: it also times and counts what the others refuse
    return app


def app_from_environment() -> FastAPI:
    """The app built from the environment's settings: what each process of `vigil serve --workers N` runs."""
    from .cli import configure_logging
    from .container import build_container
    from .settings import load_settings

    configure_logging()
    return create_app(build_container(load_settings()))


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError):
        # Never echo the input back: it may carry personal data.
        detail = [{"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg", ""), "type": err.get("type", "")}
                  for err in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError):
        return JSONResponse({"detail": exc.detail}, status_code=422)

    @app.exception_handler(NotFound)
    @app.exception_handler(StreamNotFound)
    async def not_found(_: Request, exc: Exception):
        return JSONResponse({"detail": "case not found"}, status_code=404)

    @app.exception_handler(ConcurrencyConflict)
    async def conflict(_: Request, exc: ConcurrencyConflict):
        return JSONResponse({"detail": str(exc), "current_version": exc.actual}, status_code=409)

    @app.exception_handler(DuplicateMismatch)
    async def duplicate(_: Request, exc: DuplicateMismatch):
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(IdempotencyMismatch)
    async def reused_key(_: Request, exc: IdempotencyMismatch):
        return JSONResponse({"detail": [{"loc": ["header", "Idempotency-Key"], "msg": str(exc),
                                         "type": "idempotency_key_reused"}]}, status_code=422)


def _page_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(_: Request, exc: SignInRequired):
        return RedirectResponse(signin_redirect(exc.next_path), status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError):
        return pages.templates.TemplateResponse(request, "error.html", {"status": exc.status, "message": exc.message},
                                                status_code=exc.status, headers=exc.headers)
