"""FastAPI dependencies: the container and the authenticated principal, checked in one place."""
from __future__ import annotations

from fastapi import Depends, HTTPException, Request

from service.access import Principal
from service.container import Container
from service.keys import authenticate


def container(request: Request) -> Container:
    return request.app.state.container


def principal(request: Request, box: Container = Depends(container)) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    who = authenticate(box.engine, key.strip()) if scheme.lower() == "bearer" and key.strip() else None
    if who is None:
        raise HTTPException(401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return who


def writer(who: Principal = Depends(principal)) -> Principal:
    if not who.may_write:
        raise HTTPException(403, f"role {who.role} may not write")
    return who


def admin(who: Principal = Depends(principal)) -> Principal:
    if not who.is_admin:
        raise HTTPException(403, "admin role required")
    return who
