"""The global event feed for integrations, and the event catalogue."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from events.catalogue import EVENT_TYPES, catalogue_document
from service.access import Principal
from service.errors import InputError
from service.container import Container

from .deps import container, principal

router = APIRouter(prefix="/v1", tags=["events"])


@router.get("/events")
def global_feed(after: Annotated[int, Query(ge=0, le=2**62)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                types: Annotated[str | None, Query(max_length=2000, description="comma-separated types")] = None,
                who: Principal = Depends(principal), box: Container = Depends(container)):
    wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
    unknown = [t for t in wanted or [] if t not in EVENT_TYPES]
    if unknown:
        raise InputError([{"loc": ["query", "types"], "msg": f"unknown event type '{unknown[0]}'",
                           "type": "unknown_event_type"}])
    items = box.cases.feed(who, after, limit, wanted)
    return {"items": items, "last_position": items[-1]["position"] if items else after}


@router.get("/event-types")
def event_types(who: Principal = Depends(principal)):
    return {"items": catalogue_document()}
