"""The access log, for admins."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.access import Principal
from service.container import Container

from .deps import admin, container

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/access-log")
def access_log(case_id: str | None = None, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200,
               who: Principal = Depends(admin), box: Container = Depends(container)):
    return {"items": box.access_log.entries(case_id, after, limit)}


@router.get("/access-log/verify")
def verify_access_log(who: Principal = Depends(admin), box: Container = Depends(container)):
    return box.access_log.verify()
