"""Calendar links (make, list, revoke) and the secret iCalendar feed each one serves."""
from __future__ import annotations

import math
from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ..access import Principal
from ..calendar_links import token_hash
from ..container import Container
from ..errors import NotFound
from .deps import container, in_thread, principal

router = APIRouter(tags=["calendar"])
ICS = "text/calendar; charset=utf-8"
PRIVATE = {"Cache-Control": "no-store, private"}  # a feed holds case dates: no shared cache may keep it
MAX_TOKEN = 100  # a real token is 43 characters


class CalendarLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_names: bool = Field(False, description="name each case's person in the feed, if your role may see "
                                                   "names (a viewer's feed never does)")
    language: Literal["en", "ru", "fr", "tr"] | None = Field(None, description="the feed's language (English if "
                                                                           "not given)")


class CalendarLinkOut(BaseModel):
    id: str
    url: str = Field(description="the secret calendar address; shown only in this answer")


class CalendarLinkItem(BaseModel):
    id: str
    created_at: str
    revoked_at: str | None
    include_names: bool
    language: str


@router.post("/v1/calendar/links", status_code=201, response_model=CalendarLinkOut)
async def create_link(body: CalendarLinkIn | None = None, who: Principal = Depends(principal),
                      box: Container = Depends(container)):
    body = body or CalendarLinkIn()
    made = await in_thread(box.calendar.create, who, body.include_names, body.language)
    return CalendarLinkOut(id=made.id, url=made.url)


@router.get("/v1/calendar/links", response_model=list[CalendarLinkItem])
async def list_links(who: Principal = Depends(principal), box: Container = Depends(container)):
    return await in_thread(box.calendar.list, who)


@router.delete("/v1/calendar/links/{link_id}", status_code=204)
async def revoke_link(link_id: str, who: Principal = Depends(principal), box: Container = Depends(container)):
    await in_thread(box.calendar.revoke, who, link_id)


def _gone() -> Response:
    # One answer for an unknown token, a revoked link and an owner who may no longer read: nothing to tell apart.
    return Response("not found\n", status_code=404, media_type="text/plain", headers=PRIVATE)


@router.get("/calendar/{token}.ics", include_in_schema=False)
def calendar_feed(token: str, request: Request, box: Container = Depends(container)) -> Response:
    if len(token) > MAX_TOKEN:
        return _gone()
    wait = box.calendar_limiter.take(token_hash(token))
    if wait is not None:
        return Response("too many requests\n", status_code=429, media_type="text/plain",
                        headers={**PRIVATE, "Retry-After": str(max(1, math.ceil(wait)))})
    try:
        opened = box.calendar.open(token)
    except NotFound:
        return _gone()
    body = box.calendar.feed(opened)
    # The path recorded names the link, never its token.
    box.access_log.record(opened.owner, "calendar", None, f"/calendar/{opened.link.id}",
                          request.client.host if request.client else None)
    return Response(body, media_type=ICS, headers=PRIVATE)
