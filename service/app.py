"""The FastAPI app factory: routers, error shapes, body limit; everything it uses comes from the container."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from .api import alerts, audit, calendar, cases, feed, health, imports, integrations, metrics, transparency, users
from .api.lean_route import add_lean_route
from .api_docs import add_api_docs
from .body_limit import BodyLimitMiddleware
from .container import Container
from .control_chars import ControlCharacterMiddleware
from .error_answers import add_error_handlers
from .http_metrics import ObservedRequests
from .metrics import process_exit
from .scheduler import start_scheduler
from .security_headers import SecurityHeadersMiddleware
from .web import ack_pages, live, pages, passkey_pages

log = logging.getLogger("vigil.api")


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes straight into the app's, in order: what `include_router` does for a router that its
    include adds nothing to (no prefix, tags or dependencies of its own), without the included router's lazy layer,
    which matches each request twice (once to pick the router, again inside it) at some 30 us a request."""
    if getattr(router, "_low_priority_routes", None):  # FastAPI's frontend routes (newer versions only)
        raise ValueError("a router with frontend routes needs include_router")
    app.router.routes.extend(router.routes)


def create_app(box: Container, run_worker: bool | None = None) -> FastAPI:
    run_worker = box.settings.run_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Blocking reads and appends go to thread_hop.POOL (deps.in_thread). The loop's other blocking calls go to
        # its default pool; asyncio sizes it at cores + 4, which a database slow to grant its write lock could
        # fill, stalling every read behind it.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=40, thread_name_prefix="vigil"))
        box.keys.bootstrap_admin(box.settings.bootstrap_admin_key)
        stop = asyncio.Event()
        task = asyncio.create_task(box.worker.run_forever(stop)) if run_worker else None
        scheduler = start_scheduler(box) if run_worker else None
        yield
        stop.set()
        if scheduler:
            scheduler.shutdown(wait=True)
        if task:
            await task  # the worker closes its HTTP session as it stops
        else:
            await box.worker.aclose()  # a test send may have opened one on this loop
        process_exit()

    app = FastAPI(title="Vigil", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Event-sourced alerting for people at risk of forced return.")
    app.state.container = box
    for router in (health.router, metrics.router, cases.router, imports.router, feed.router, alerts.router,
                   audit.router, transparency.router, users.router, calendar.router, integrations.router, pages.router,
                   passkey_pages.router, ack_pages.router, live.router):
        add_routes(app, router)
    add_lean_route(app.router.routes, cases.append_event, cases.append_answer)  # the hot append's fast lane
    app.mount("/static", StaticFiles(packages=[("service", "static")]), name="static")
    add_api_docs(app)
    add_error_handlers(app)
    app.add_middleware(ControlCharacterMiddleware)  # innermost: its 404s and 422s still get headers and a log line
    app.add_middleware(BodyLimitMiddleware, max_bytes=box.settings.max_body_bytes,
                       paths={"/v1/import": box.settings.max_import_bytes})
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ObservedRequests)  # outermost: it also logs, times and counts what the others refuse
    return app


