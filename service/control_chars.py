"""Control characters in a URL are answered at the edge: a path holding one is a 404, a query value a 422."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

# C0, DEL and C1. PostgreSQL cannot even compare text holding NUL, and no id, filter or search needs any of them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ControlCharacterMiddleware:
    """A pure ASGI middleware, so the check costs one regex search per request and nothing per response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if _CONTROL.search(scope.get("path", "")):  # already percent-decoded: %00 arrives as NUL
            return await _answer(send, 404, {"detail": "Not Found"})
        query = scope.get("query_string", b"").decode("latin-1")
        if query and (_CONTROL.search(query) or "%" in query):
            for name, value in parse_qsl(query, keep_blank_values=True):
                if _CONTROL.search(name) or _CONTROL.search(value):
                    # The parameter is named, its value never echoed; a name that is itself garbage is not either.
                    loc = ["query"] if _CONTROL.search(name) else ["query", name]
                    return await _answer(send, 422, {"detail": [{
                        "loc": loc, "msg": "must not contain control characters", "type": "control_character"}]})
        return await self.app(scope, receive, send)


async def _answer(send, status: int, body: dict) -> None:
    content = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})
