"""The witness over HTTP: `POST /add-checkpoint` as c2sp.org/tlog-witness defines it, answering cosignatures."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from .notes import SignerKey, cosign
from .witness import RequestError, Witness, parse_add_request
from .witness_state import StateError

MAX_BODY = 64 * 1024  # 63 proof lines and a checkpoint with its signatures fit many times over
SIZE_TYPE = "text/x.tlog.size"

log = logging.getLogger("vigil.witness")


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is longer than MAX_BODY (told by its length or found while reading)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def create_witness_app(witness: Witness, signer: SignerKey, clock: Callable[[], datetime] = _now) -> FastAPI:
    app = FastAPI(title="Vigil witness", docs_url=None, redoc_url=None, openapi_url=None)
    key = signer.verifier

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            return PlainTextResponse(f"the body is larger than {MAX_BODY} bytes\n", status_code=413)
        try:
            parsed = parse_add_request(body)
        except RequestError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        now = clock()
        try:
            # The file lock and fsync block: off the event loop.
            outcome = await run_in_threadpool(witness.add, parsed, now)
        except (StateError, OSError) as exc:
            log.error("witness state not written, no cosignature given: %s", exc)
            return PlainTextResponse("the witness could not keep its state; try again later\n", status_code=503)
        if outcome.status == 409 and outcome.size is not None:
            # The spec fixes this body: the size held, so that the log can resend from it.
            return PlainTextResponse(f"{outcome.size}\n", status_code=409, media_type=SIZE_TYPE,
                                     headers={"X-Witness-Reason": _header_safe(outcome.reason)})
        if not outcome.accepted:
            log.info("refused a checkpoint (%d): %s", outcome.status, outcome.reason)
            return PlainTextResponse(f"{outcome.reason}\n", status_code=outcome.status)
        body_text = outcome.checkpoint.body()
        cosignature = cosign(body_text, signer, int(now.timestamp()))
        log.info("cosigned %s at size %d as %s", outcome.checkpoint.origin, outcome.checkpoint.size, key.name)
        return PlainTextResponse(cosignature.line())

    return app


def _header_safe(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")[:500]
