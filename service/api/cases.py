"""Case endpoints: open, list, read, status as of a date, append and list events, verify, export."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from events.catalogue import Note
from events.fastsql import shared_reads
from events.projection import STATUSES
from events.risk import LEVELS
from service.access import Principal
from service.cases import CaseFilters
from service.container import Container
from service.errors import InputError
from service.dossier import DOSSIER_CSP, dossier_html, dossier_pdf
from service.exports import events_csv
from service.schemas import AppendOut, CaseCreatedOut, CaseIn, EventIn

from .deps import admin, checks_its_caller, container, deferred_writer, in_thread, principal, readable_case
from .header_params import HeaderParam, documented

router = APIRouter(prefix="/v1", tags=["cases"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
# The append route reads its headers itself (header_params.py). Opening a case keeps its Header(): an operation
# without path parameters gets its "parameters" from openapi_extra after its body, which would reorder the OpenAPI.
IDEMPOTENCY_KEY = HeaderParam("Idempotency-Key", 200)
IF_MATCH = HeaderParam("If-Match", 20)


def parse_moment(name: str, raw: str | None) -> datetime | None:
    """A query time: RFC 3339 with offset, or a bare date meaning the end of that day in UTC."""
    if raw is None or raw == "":
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            return datetime.combine(date.fromisoformat(raw), time.max, tzinfo=timezone.utc)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise InputError([{"loc": ["query", name], "msg": "not an RFC 3339 time or a YYYY-MM-DD date",
                           "type": "datetime_parsing"}]) from None
    if moment.tzinfo is None:
        raise InputError([{"loc": ["query", name], "msg": "time needs a UTC offset", "type": "timezone_aware"}])
    if not 1900 <= moment.year <= 2200:
        raise InputError([{"loc": ["query", name], "msg": "must be between the years 1900 and 2200",
                           "type": "value_error"}])
    return moment


def parse_if_match(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not re.fullmatch(r"[0-9]{1,10}", value):  # not str.isdigit(): it also takes '²', which int() refuses
        raise InputError([{"loc": ["header", "If-Match"], "msg": "must be the expected version number",
                           "type": "int_parsing"}])
    return int(value)


@router.post("/cases", status_code=201, response_model=CaseCreatedOut)
@checks_its_caller()
async def open_case(body: CaseIn, request: Request, response: Response, idempotency_key: IdempotencyKey = None):
    caller = deferred_writer(request)

    def check_and_open():
        return caller.box.cases.open_case(caller.check(), body, idempotency_key)
    result = await in_thread(check_and_open)
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/cases/{result.stream_id}"
    return {"id": result.stream_id, "version": result.version, "position": result.position,
            "log_index": result.log_index}


@router.get("/cases")
def list_cases(request: Request, status: str | None = None, risk: str | None = None, country: str | None = None,
               tag: str | None = None, q: Annotated[str | None, Query(max_length=200)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,9}$")] = None,
               who: Principal = Depends(principal), box: Container = Depends(container)):
    for name, value, allowed in (("status", status, STATUSES), ("risk", risk, LEVELS)):
        if value and value not in allowed:  # not echoed back: the rule is that input never is
            raise InputError([{"loc": ["query", name], "type": "enum",
                               "msg": f"unknown {name}; use one of: {', '.join(allowed)}"}])
    box.access_log.record(who, "list", None, request.url.path, request.client.host if request.client else None)
    filters = CaseFilters(status, risk, country.upper() if country else None, tag, q)
    items, next_offset = box.cases.list(who, filters, limit, int(cursor or 0))
    return {"items": items, "next_cursor": str(next_offset) if next_offset is not None else None}


@router.get("/cases/{case_id}")
def get_case(case_id: str, who: Principal = Depends(readable_case("read")), box: Container = Depends(container)):
    return box.cases.view(who, case_id)


@router.get("/cases/{case_id}/status")
def case_status(case_id: str, as_of: str | None = None, known_at: str | None = None,
                who: Principal = Depends(readable_case("read_status")), box: Container = Depends(container)):
    return box.cases.status(who, case_id, parse_moment("as_of", as_of), parse_moment("known_at", known_at))


async def append_answer(request: Request, case_id: str, body: EventIn) -> tuple[dict, list[tuple[str, str]]]:
    """The append and its answer (body and extra headers), for the route and its fast lane (lean_route.py)."""
    # The write paths are the hot ones: the key check and the append in one hop to the loop's thread pool
    # (see deps.py).
    caller = deferred_writer(request)
    idempotency_key, if_match = caller.values.get(IDEMPOTENCY_KEY.name), caller.values.get(IF_MATCH.name)

    def check_and_append():
        with shared_reads(caller.box.engine) as reads:  # the key and the case's teams: one statement
            who, teams = caller.check_for_case(case_id)
            reads.close()  # back before the append waits for its commit
            return caller.box.cases.append(who, case_id, body, parse_if_match(if_match), idempotency_key,
                                           teams=teams)
    result = await in_thread(check_and_append)
    headers = [] if result.created else [("Idempotent-Replayed", "true")]
    headers.append(("ETag", f'"{result.version}"'))
    return {"event_id": result.event_id, "version": result.version, "position": result.position,
            "log_index": result.log_index}, headers


@router.post("/cases/{case_id}/events", status_code=201, response_model=AppendOut,
             openapi_extra=documented(IDEMPOTENCY_KEY, IF_MATCH))
@checks_its_caller(IDEMPOTENCY_KEY, IF_MATCH)
async def append_event(case_id: str, body: EventIn, request: Request, response: Response):
    content, headers = await append_answer(request, case_id, body)
    for name, value in headers:
        response.headers[name] = value
    return content


@router.get("/cases/{case_id}/events")
def list_events(case_id: str, after_version: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
                limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
                who: Principal = Depends(readable_case("read_events")), box: Container = Depends(container)):
    return {"items": box.cases.events(who, case_id, after_version, limit)}


@router.get("/cases/{case_id}/verify")
def verify_case(case_id: str, who: Principal = Depends(readable_case("verify")), box: Container = Depends(container)):
    return box.cases.verify(who, case_id)


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Note | None = None


@router.post("/cases/{case_id}/erase")
def erase_case(case_id: str, body: EraseIn | None = None, who: Principal = Depends(admin),
               box: Container = Depends(container)):
    """Crypto-shred the person's data; the history and its hashes stay verifiable."""
    result = box.cases.erase(who, case_id, body.reason if body else None)
    return {"event_id": result.event_id, "version": result.version, "position": result.position,
            "log_index": result.log_index}


@router.get("/cases/{case_id}/export")
def export_case(case_id: str, format: Literal["json", "csv", "html", "pdf", "bundle"] = "json",
                who: Principal = Depends(readable_case("export")), box: Container = Depends(container)):
    if format == "bundle":
        return Response(box.bundles.export(who, case_id), media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="case-{case_id}-bundle.zip"'})
    dossier = box.cases.export(who, case_id, box.alerts.for_case(who, case_id))
    disposition = {"Content-Disposition": f'attachment; filename="case-{case_id}.{format}"'}
    if format == "csv":
        return PlainTextResponse(events_csv(dossier["events"]), media_type="text/csv", headers=disposition)
    if format == "html":
        return HTMLResponse(dossier_html(dossier, box.clock.now()), headers={"Content-Security-Policy": DOSSIER_CSP})
    if format == "pdf":
        return Response(dossier_pdf(dossier, box.clock.now()), media_type="application/pdf", headers=disposition)
    return JSONResponse(dossier, headers=disposition)
