"""A fast lane in front of one hot JSON route: a valid request is answered without FastAPI's request machinery.

FastAPI spends some 150 us a request on the append route before and after the handler (reading the body through
`Request`, solving the signature, the exit stacks, serializing through a `Response`). The lane matches exactly what
its route matches (same method, same path), validates the body with the route's own body field and serializes the
answer with its own response field, so a valid request gets the same bytes. Anything else (another content type,
JSON that does not parse or validate, a body in pieces the lane did not expect) is handed to the route itself with
the body replayed, so every error is answered exactly as before. The route stays in the app for the OpenAPI
document and `url_for`; the lane is not an `APIRoute`, so FastAPI does not document it twice.
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Message, Receive, Scope, Send

from service.body_limit import replaying

# What the lane's handler gives back: the route's answer (what its endpoint would return) and its extra headers.
Answer = Callable[..., Awaitable[tuple[Any, list[tuple[str, str]]]]]
JSON = b"application/json"


class LeanRoute(BaseRoute):
    """`route` answered by `answer(request, body=..., **path_params)` for requests the lane can take whole."""

    def __init__(self, route: APIRoute, answer: Answer):
        if (route.dependant.dependencies or route.body_field is None or route.response_field is None
                or getattr(route, "_embed_body_fields", False)):
            raise ValueError(f"{route.path}: the lane only serves a route with one JSON body, a response model and "
                             "no dependencies, which it would skip")
        if len(route.methods) != 1:
            raise ValueError(f"{route.path}: the lane serves a route of one method")
        self.route, self.answer = route, answer
        (self.method,) = route.methods
        self.path_format = route.path_format  # what FastAPI's router reports as the matched path
        self.status_code = route.status_code or 200

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != self.method:
            return Match.NONE, {}  # other methods find the route itself, which answers them as before
        found = self.route.path_regex.match(get_route_path(scope))
        if found is None:
            return Match.NONE, {}
        params = {name: self.route.param_convertors[name].convert(value) for name, value in found.groupdict().items()}
        return Match.FULL, {"endpoint": self.route.endpoint, "route": self.route,
                            "path_params": {**scope.get("path_params", {}), **params}}

    def url_path_for(self, name: str, /, **path_params: Any):
        raise NoMatchFound(name, path_params)  # the route itself answers url_for

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        consumed: list[Message] = []
        body = await _whole_body(receive, consumed)
        model = self._valid_body(scope, body) if body is not None else None
        if model is None:
            await self.route.handle(scope, replaying(consumed, receive), send)
            return
        content, headers = await self.answer(Request(scope, receive, send), body=model, **scope["path_params"])
        await self._send(send, content, headers)

    def _valid_body(self, scope: Scope, body: bytes) -> Any | None:
        """The body as the route's endpoint would get it, or None where FastAPI's own path must answer."""
        if not body or _content_type(scope) != JSON:
            return None
        try:
            value, errors = self.route.body_field.validate(json.loads(body), {}, loc=("body",))
        except Exception:  # noqa: BLE001 - not a delivery path: the route parses again and answers (JSON nested
            return None    # too deep for the parser, say, which FastAPI answers 400)
        return None if errors else value

    async def _send(self, send: Send, content: Any, headers: list[tuple[str, str]]) -> None:
        field = self.route.response_field
        value, errors = field.validate(content, {}, loc=("response",))
        if errors:  # a bug in the handler, never the caller's input: the route's own path reports it
            raise RuntimeError(f"{self.route.path}: the answer does not fit its response model: {errors}")
        payload = field.serialize_json(value)
        raw = [(b"content-length", str(len(payload)).encode()), (b"content-type", JSON)]
        raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        await send({"type": "http.response.start", "status": self.status_code, "headers": raw})
        await send({"type": "http.response.body", "body": payload})


async def _whole_body(receive: Receive, consumed: list[Message]) -> bytes | None:
    """The request body, every message read kept in `consumed`; None if the client left first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        consumed.append(message)
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _content_type(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value
    return None


def add_lean_route(routes: list[BaseRoute], endpoint: Callable[..., Any], answer: Answer) -> None:
    """Puts a lane for the route of `endpoint` first, where matching it costs one regex; right before the route
    instead if an earlier route would also take its requests (then it matches where the route would have)."""
    index = next(i for i, route in enumerate(routes) if isinstance(route, APIRoute) and route.endpoint is endpoint)
    if not hasattr(routes[index].response_field, "serialize_json"):
        return  # a FastAPI older than its dump_json answers (pyproject allows them): the route answers alone
    lane = LeanRoute(routes[index], answer)
    probe = {"type": "http", "method": lane.method, "path_params": {}, "root_path": "",
             "path": lane.route.path_format.format(**{name: "x" for name in lane.route.param_convertors})}
    earlier_takes_it = any(route.matches(dict(probe))[0] == Match.FULL for route in routes[:index])
    routes.insert(index if earlier_takes_it else 0, lane)
