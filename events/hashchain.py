"""SHA-256 hash chain over each stream's events, and its verification (pure)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Sequence

from .compact_json import compact

GENESIS = "0" * 64


def canonical_bytes(fields: Sequence[object]) -> bytes:
    """The bytes an event's hash covers: its stored columns, in a fixed order, as compact JSON."""
    return compact(list(fields)).encode("utf-8")


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    version: int
    prev_hash: str
    hash: str
    canonical: bytes


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    head: str
    bad_version: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        out = {"ok": self.ok, "events": self.events, "head": self.head}
        if not self.ok:
            out["bad_version"] = self.bad_version
            out["reason"] = self.reason
        return out


def verify_chain(links: Iterable[ChainLink]) -> VerifyResult:
    """Recompute the chain in version order; name the first version whose content or link is wrong."""
    prev = GENESIS
    count = 0
    for link in links:
        expected_version = count + 1
        if link.version != expected_version:
            return VerifyResult(False, count, prev, expected_version, f"version {expected_version} is missing")
        if link.prev_hash != prev:
            return VerifyResult(False, count, prev, link.version, "link to the previous event is broken")
        if chain_hash(prev, link.canonical) != link.hash:
            return VerifyResult(False, count, prev, link.version, "content does not match its hash")
        prev = link.hash
        count += 1
    return VerifyResult(True, count, prev)
