"""POST /v1/import: a team's history as NDJSON or CSV, validated line by line and written in large batches."""
from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from service.access import Principal
from service.container import Container
from service.import_lines import reader_for

from .deps import container, in_thread, writer

router = APIRouter(prefix="/v1", tags=["import"])

FORMATS = {"application/x-ndjson": "ndjson", "application/jsonl": "ndjson", "text/csv": "csv"}


BODY = {"requestBody": {"required": True, "content": {
    "application/x-ndjson": {"schema": {"type": "string", "description": 'one {"case": ...} or {"event": ...} a line'}},
    "text/csv": {"schema": {"type": "string", "description": "the header, then one row per event (see README)"}}}}}


@router.post("/import", openapi_extra=BODY, responses={200: {"description": "the summary: cases opened, events stored, skipped, "
                                                        "bad lines (line, field, message)"},
                                   422: {"description": "?check=true found bad lines (nothing was written)"}})
async def import_history(request: Request, check: bool = False,
                         team: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")] = None,
                         who: Principal = Depends(writer), box: Container = Depends(container)):
    """Lines with a bad field are reported and not written; the others are. `check=true` writes nothing."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = FORMATS.get(kind)
    if fmt is None:
        raise HTTPException(415, f"send application/x-ndjson or text/csv, not {kind[:60] or 'nothing'}")
    if team is not None and team != who.team:
        if not who.is_admin:
            raise HTTPException(403, "only an admin may import for another team")
        who = replace(who, team=team)
    body = await request.body()  # read line by line from here: a list of its lines could take 30 times its size
    summary = await in_thread(box.imports.run, who, reader_for(fmt, body), check)
    return JSONResponse(summary.as_dict(), status_code=422 if check and summary.bad_lines else 200)
