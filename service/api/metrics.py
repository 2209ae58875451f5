"""GET /metrics: the Prometheus exposition, for an admin key or the separate metrics token."""
from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.container import Container

from .deps import container, principal

router = APIRouter(tags=["health"])


async def metrics_reader(request: Request, box: Container = Depends(container)) -> None:
    """The metrics token (VIGIL_METRICS_TOKEN) as bearer, compared in constant time; else an admin API key."""
    token = box.settings.metrics_token
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    presented = presented.strip()
    # Bytes, not str: compare_digest refuses non-ASCII text, and a header may hold any latin-1 byte.
    if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token.encode()):
        return
    who = await principal(request, box)  # 401 without a valid key
    if not who.is_admin:
        raise HTTPException(403, "admin role or the metrics token required")


@router.get("/metrics", response_class=Response, dependencies=[Depends(metrics_reader)],
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
                       401: {"description": "no or unknown credentials"}, 403: {"description": "not an admin key"}})
def read_metrics(box: Container = Depends(container)) -> Response:
    return Response(box.metrics_text(), media_type=CONTENT_TYPE_LATEST)
