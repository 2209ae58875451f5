"""Request bodies of the case API (validated by FastAPI; event `data` is validated per type afterwards)."""
from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import Annotated

from events.catalogue import (
    CountryCode, LongText, Moment, Person, ShortText, SourceUrl, Tag, TeamName, TimeZoneName,
)
from events.text import single_line

DatePrecision = Literal["exact", "day", "month", "year"]


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: SourceUrl | None = None
    title: ShortText | None = None
    reliability: Annotated[str, StringConstraints(max_length=50), AfterValidator(single_line)] | None = None


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: Person
    country: CountryCode
    origin_country: CountryCode | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    teams: list[TeamName] | None = Field(default=None, max_length=50)
    summary: LongText | None = None
    timezone: TimeZoneName | None = None
    occurred_at: Moment | None = None
    date_precision: DatePrecision = "exact"


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Annotated[str, StringConstraints(max_length=64)]
    occurred_at: Moment
    date_precision: DatePrecision = "exact"
    data: dict[str, Any] = Field(default_factory=dict)
    source: SourceIn | None = None
    event_id: UUID | None = None


class AppendOut(BaseModel):
    event_id: str
    version: int
    position: int


class CaseCreatedOut(BaseModel):
    id: str
    version: int
    position: int
