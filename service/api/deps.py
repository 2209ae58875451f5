"""FastAPI dependencies: the container and the authenticated principal, checked in one place.

Dependencies that only look at what is already in memory are `async def`: FastAPI runs a plain `def` dependency
in a worker thread through anyio, and that hop costs more than the check itself. `principal` reads the database,
so it sends the whole check to the loop's thread pool (`in_thread`) in one hop, which costs about a third of
anyio's. The hot write routes go one step further (`deferred_writer`): the key is checked in the same
worker-thread call as the write itself."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import Depends, HTTPException, Request

from service.access import Principal
from service.container import Container
from service.errors import InputError
from service.thread_hop import in_thread

from .header_params import HeaderParam, header_errors

# The handlers of the hot write routes, which check their caller themselves (`deferred_writer`), and the headers
# each reads itself (`header_params`).
_CHECKING_HANDLERS: dict[Callable[..., Any], tuple[HeaderParam, ...]] = {}


async def container(request: Request) -> Container:
    return request.app.state.container




def _too_many(seconds: int) -> HTTPException:
    return HTTPException(429, "too many failed sign-ins from this address", headers={"Retry-After": str(seconds)})


def authenticated(box: Container, authorization: str, address: str | None,
                  lookup: Callable[[str], Principal | None] | None = None) -> Principal:
    """The principal a request's Authorization header names, or the HTTPException that refuses it (blocking: it
    reads the database, and counts a failure there). `lookup` finds a presented key's principal (by default
    `box.keys.authenticate`)."""
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    refused = box.auth_throttle.blocked(address)
    if refused is not None:
        raise _too_many(refused)
    who = (lookup or box.keys.authenticate)(key) if scheme.lower() == "bearer" and key else None
    if who is None:
        refused = box.auth_throttle.failed(address)
        if refused is not None:
            raise _too_many(refused)
        raise HTTPException(401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"})
    wait = box.rate_limiter.take(who.key_id)
    if wait is not None:
        raise HTTPException(429, "rate limit exceeded for this API key",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})
    return who


def _address(request: Request) -> str | None:
    client = request.scope.get("client")  # what `request.client.host` gives, without building the Address
    return client[0] if client else None


async def principal(request: Request, box: Container = Depends(container)) -> Principal:
    return await in_thread(authenticated, box, request.headers.get("authorization", ""), _address(request))


def readable_case(action: str):
    """A dependency for routes that read one case: 404 unless this key's team may see it, then an access-log entry."""
    def dependency(case_id: str, request: Request, who: Principal = Depends(principal),
                   box: Container = Depends(container)) -> Principal:
        box.cases.require_access(who, case_id)
        box.access_log.record(who, action, case_id, request.url.path, request.client.host if request.client else None)
        return who
    return dependency


def _may_write(who: Principal) -> Principal:
    if not who.may_write:
        raise HTTPException(403, f"role {who.role} may not write")
    return who


async def writer(who: Principal = Depends(principal)) -> Principal:
    return _may_write(who)


async def admin(who: Principal = Depends(principal)) -> Principal:
    if not who.is_admin:
        raise HTTPException(403, "admin role required")
    return who


@dataclass
class DeferredWriter:
    """A write route's caller, not yet checked: `check()` (blocking) gives the principal `writer` would have, or
    raises what `writer` would have raised, then the 422 its route's headers would have given."""
    box: Container
    authorization: str
    address: str | None
    invalid_headers: list[dict[str, Any]]
    values: dict[str, str] = field(default_factory=dict)  # the headers its route reads itself, by their names

    def principal(self) -> Principal:
        return _may_write(authenticated(self.box, self.authorization, self.address))

    def check(self) -> Principal:
        who = self.principal()
        if self.invalid_headers:
            raise InputError(self.invalid_headers)
        return who

    def check_for_case(self, case_id: str) -> tuple[Principal, list[str] | None]:
        """`check()`, and the teams of the case `case_id` (None: no such case), read in the key's own statement."""
        found: list[list[str] | None] = [None]

        def lookup(key: str) -> Principal | None:
            who, found[0] = self.box.keys.authenticate_for_case(key, case_id)
            return who
        who = _may_write(authenticated(self.box, self.authorization, self.address, lookup))
        if self.invalid_headers:
            raise InputError(self.invalid_headers)
        return who, found[0]


def checks_its_caller(*headers: HeaderParam) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Marks a write route's handler that checks its caller (`deferred_writer`) and these headers itself."""
    def mark(handler: Callable[..., Any]) -> Callable[..., Any]:
        _CHECKING_HANDLERS[handler] = headers
        return handler
    return mark


def _route_headers(request: Request) -> tuple[HeaderParam, ...] | None:
    return _CHECKING_HANDLERS.get(getattr(request.scope.get("route"), "endpoint", None))


def deferred_writer(request: Request) -> DeferredWriter:
    """`writer` for the hot write routes, checked later in the handler's own worker-thread call, which saves a
    thread hop per request; taken from the request in the handler, not as a dependency, which FastAPI would solve
    at some 20 us a request. FastAPI validates the body before the handler runs; if that fails, the validation
    answer checks the key first (`checked_before_invalid`), so every answer is the one `writer` gives."""
    params = _route_headers(request) or ()
    wanted = {param.name.lower().encode("latin-1"): param.name for param in params}
    wanted[b"authorization"] = "authorization"
    values: dict[str, str] = {}
    for name, value in request.scope["headers"]:  # one pass, first value of each (as `request.headers.get`)
        if name in wanted and wanted[name] not in values:
            values[wanted[name]] = value.decode("latin-1")
    return DeferredWriter(request.app.state.container, values.pop("authorization", ""), _address(request),
                          header_errors(params, values), values)


async def checked_before_invalid(request: Request) -> HTTPException | None:
    """For a request refused as invalid: the refusal its route's own key check gives, if any (it comes first)."""
    if _route_headers(request) is None:
        return None
    try:
        await in_thread(deferred_writer(request).principal)
    except HTTPException as refusal:
        return refusal
    return None


def invalid_headers(request: Request) -> list[dict[str, Any]]:
    """The 422 entries of the headers the request's route reads itself, which FastAPI lists before the body's."""
    return header_errors(_route_headers(request) or (), request.headers)
