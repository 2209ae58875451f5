"""People (admin): invite a person, list people (with any lockout), unlock a person, disable a person (which ends
their sessions at once)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import Annotated

from events.catalogue import ShortText, TeamName

from ..access import Principal
from ..container import Container
from .deps import admin, container, in_thread

router = APIRouter(prefix="/v1/users", tags=["users"])
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "editor", "viewer"]
    team: TeamName
    name: Annotated[ShortText, StringConstraints(max_length=100)]
    email: Email | None = None


class InvitationOut(BaseModel):
    id: str
    url: str = Field(description="the one-time link; shown only in this answer")
    expires_at: datetime


class PersonOut(BaseModel):
    id: str
    name: str
    email: str | None
    role: str
    team: str
    enrolled: bool
    disabled: bool
    created_at: str
    created_by: str
    locked_at: str | None = Field(description="when failed sign-ins locked the account; null if it is not locked")
    failures: int = Field(description="failed sign-ins since the last good one")
    failed_from: list[str] = Field(description="the addresses the recent failures came from (admins only)")


@router.post("/invitations", status_code=201, response_model=InvitationOut)
async def invite(body: InvitationIn, who: Principal = Depends(admin), box: Container = Depends(container)):
    made = await in_thread(box.people.invite, who, body.role, body.team, body.name, body.email)
    return InvitationOut(id=made.id, url=made.url, expires_at=made.expires_at)


@router.get("", response_model=list[PersonOut])
async def list_people(who: Principal = Depends(admin), box: Container = Depends(container)):
    return await in_thread(box.people.list)


@router.post("/{person_id}/disable", status_code=204)
async def disable(person_id: str, who: Principal = Depends(admin), box: Container = Depends(container)):
    await in_thread(box.people.disable, person_id)


@router.post("/{person_id}/unlock", status_code=204)
async def unlock(person_id: str, who: Principal = Depends(admin), box: Container = Depends(container)):
    await in_thread(box.people.unlock, person_id)
