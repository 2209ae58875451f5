"""ASGI middleware that observes each request once: a log line (method, path, status, duration; never the query
string, which may hold a name) and the metrics, counted by route template (never the raw path: it holds case ids)."""
from __future__ import annotations

import logging
import time

from . import metrics

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
log = logging.getLogger("vigil.requests")
# An invitation's, a calendar's or an acknowledge link's token is its path: whoever reads it could use it.
SECRET_PATHS = ("/welcome/", "/calendar/", "/ack/")


def logged_path(path: str) -> str:
    """The path as the log shows it: an invitation's or acknowledge link's token replaced by "…"."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            rest = path[len(prefix):].partition("/")
            return prefix + "…" + rest[1] + rest[2]
    return path


def route_template(scope, root_path_before: str) -> str:
    """The template of the route that answered; a mount's prefix plus "/{path}" (static files); else "unmatched":
    an unknown path, or a request refused before routing (a body over the limit)."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    root_path = scope.get("root_path", "")
    if root_path != root_path_before and root_path.startswith(root_path_before):  # a Mount adds its prefix
        return root_path[len(root_path_before):] + "/{path}"
    return UNMATCHED


def log_request(method: str, path: str, status: int, seconds: float) -> None:
    """The request's log line, made without `Logger.info`'s walk up the stack for the caller's file and line (which
    the log format does not show, and which costs a few microseconds on every request)."""
    log.handle(log.makeRecord(log.name, logging.INFO, "(unknown file)", 0, "%s %s %d %.1fms",
                              (method, path, status, seconds * 1000), None))


class ObservedRequests:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500  # what the server answers if the app raises before starting a response

        async def capture(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            took = time.perf_counter() - started
            if log.isEnabledFor(logging.INFO):
                log_request(scope["method"], logged_path(scope["path"]), status, took)
            method = scope["method"] if scope["method"] in METHODS else "other"
            metrics.count_request(method, route_template(scope, root_path), status, took)
