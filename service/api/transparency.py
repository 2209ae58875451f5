"""The transparency log: its size, RFC 6962 proofs for any authenticated key, and its leaves for admins."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import PlainTextResponse

from service.access import Principal
from service.container import Container

from .deps import admin, container, principal

router = APIRouter(prefix="/v1/log", tags=["log"])

Index = Annotated[int, Query(ge=0, le=2**62)]
Size = Annotated[int, Query(ge=1, le=2**62)]


@router.get("/key", response_class=PlainTextResponse)
def log_key(box: Container = Depends(container)):
    """The log's verifier key (Go `note` format): public, so a team can publish it and anyone can check with it."""
    return PlainTextResponse(str(box.log_signing.key.verifier()) + "\n")


@router.get("/checkpoint", response_class=PlainTextResponse)
def log_checkpoint(who: Principal = Depends(principal), box: Container = Depends(container)):
    """The latest signed checkpoint (C2SP tlog-checkpoint) with the witnesses' cosignatures it has gathered."""
    note = box.log_signing.current()
    if note is None:
        raise HTTPException(404, "no checkpoint signed yet: the log signs one within VIGIL_CHECKPOINT_SECONDS of "
                                 "its first event")
    return PlainTextResponse(note)


@router.get("/size")
def log_size(who: Principal = Depends(principal), box: Container = Depends(container)):
    return {"size": box.transparency.size()}


@router.get("/proof/inclusion")
def inclusion_proof(index: Index, size: Size, who: Principal = Depends(principal),
                    box: Container = Depends(container)):
    """Sibling hashes from the leaf upward (RFC 6962 audit path), base64; they reveal only hashes."""
    return box.transparency.inclusion(index, size)


@router.get("/proof/consistency")
def consistency_proof(old: Index, new: Size, who: Principal = Depends(principal),
                      box: Container = Depends(container)):
    return box.transparency.consistency(old, new)


@router.get("/leaves/{index}")
def leaf(request: Request, index: Annotated[int, Path(ge=0, le=2**62)], who: Principal = Depends(admin),
         box: Container = Depends(container)):
    """The leaf's data: the event's canonical bytes, base64 (personal data in them is ciphertext)."""
    found = box.transparency.leaf(index)
    if found is None:
        raise HTTPException(404, "no leaf at this index: the log is not that long")
    box.access_log.record(who, "log_leaf", found["case_id"], request.url.path,
                          request.client.host if request.client else None)
    return {"index": found["index"], "data": found["data"], "event_id": found["event_id"]}
