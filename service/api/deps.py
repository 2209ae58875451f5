"""FastAPI dependencies: the container and the authenticated principal, checked in one place.

Dependencies that only look at what is already in memory are `async def`: FastAPI runs a plain `def` dependency
in a worker thread through anyio, and that hop costs more than the check itself. `principal` reads the database,
so it sends just that read to the loop's thread pool (`in_thread`), which costs about a third of anyio's hop."""
from __future__ import annotations

import asyncio
import math

from fastapi import Depends, HTTPException, Request

from service.access import Principal
from service.container import Container


async def container(request: Request) -> Container:
    return request.app.state.container


in_thread = asyncio.to_thread


async def principal(request: Request, box: Container = Depends(container)) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    address = request.client.host if request.client else None
    refused = box.auth_throttle.blocked(address)
    if refused is not None:
        raise HTTPException(429, "too many failed sign-ins from this address", headers={"Retry-After": str(refused)})
    who = await in_thread(box.keys.authenticate, key) if scheme.lower() == "bearer" and key else None
    if who is None:
        refused = await in_thread(box.auth_throttle.failed, address)
        if refused is not None:
            raise HTTPException(429, "too many failed sign-ins from this address",
                                headers={"Retry-After": str(refused)})
        raise HTTPException(401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"})
    wait = box.rate_limiter.take(who.key_id)
    if wait is not None:
        raise HTTPException(429, "rate limit exceeded for this API key",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})
    return who


def readable_case(action: str):
    """A dependency for routes that read one case: 404 unless this key's team may see it, then an access-log entry."""
    def dependency(case_id: str, request: Request, who: Principal = Depends(principal),
                   box: Container = Depends(container)) -> Principal:
        box.cases.require_access(who, case_id)
        box.access_log.record(who, action, case_id, request.url.path, request.client.host if request.client else None)
        return who
    return dependency


async def writer(who: Principal = Depends(principal)) -> Principal:
    if not who.may_write:
        raise HTTPException(403, f"role {who.role} may not write")
    return who


async def admin(who: Principal = Depends(principal)) -> Principal:
    if not who.is_admin:
        raise HTTPException(403, "admin role required")
    return who
