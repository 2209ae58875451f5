"""A C2SP tlog-witness's checks: a new checkpoint is remembered only if the log signed it and it extends, by a
verified consistency proof, the one remembered before; anything that contradicts the memory is kept as evidence."""
from __future__ import annotations

import logging
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from events.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency

from .notes import (Checkpoint, NoteError, UnverifiedNote, VerifierKey, b64decode, b64encode, open_checkpoint,
                    parse_checkpoint, parse_note)
from .witness_state import StateFile

MAX_PROOF_LINES = 63
MAX_CONFLICTS = 1000  # the earliest are kept: they are the evidence; later repeats add nothing
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]*)")

log = logging.getLogger("vigil.witness")


class RequestError(ValueError):
    """An add-checkpoint body that is not the protocol's (answered 400)."""


@dataclass(frozen=True)
class AddRequest:
    old: int
    proof: list[bytes]
    checkpoint: str  # the signed note as sent, signatures included


def parse_add_request(body: bytes) -> AddRequest:
    """`old <size>`, at most 63 base64 hash lines, a blank line, then the checkpoint note."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError("the body is not UTF-8") from exc
    head, blank, checkpoint = text.partition("\n\n")
    if not blank:
        raise RequestError("no blank line between the old size and proof lines and the checkpoint")
    lines = head.split("\n")
    match = _OLD_LINE.fullmatch(lines[0])
    if not match:
        raise RequestError("the first line must be 'old <size>', the size in decimal with no leading zeroes")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise RequestError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            digest = b64decode(line)
        except NoteError as exc:
            raise RequestError(f"line {number} is not a base64 hash") from exc
        if len(digest) != HASH_SIZE:
            raise RequestError(f"line {number} is not a {HASH_SIZE}-byte hash")
        proof.append(digest)
    return AddRequest(int(match.group(1)), proof, checkpoint)


@dataclass(frozen=True)
class Outcome:
    """What became of a checkpoint: `status` as tlog-witness answers it (200 remembered; 400 malformed; 403 not
    signed by the log; 404 unknown log; 409 `size` is what the witness holds; 422 the proof failed), `reason` in
    words, and the checkpoint's text when it was verified."""
    status: int
    reason: str
    size: int | None = None
    checkpoint: Checkpoint | None = None
    conflict: bool = False  # kept as evidence that the log contradicted what it signed before

    @property
    def accepted(self) -> bool:
        return self.status == 200


@dataclass
class Witness:
    state_file: StateFile
    log_keys: Sequence[VerifierKey]
    _logs: dict[str, list[VerifierKey]] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        logs: dict[str, list[VerifierKey]] = defaultdict(list)
        for key in self.log_keys:
            logs[key.name].append(key)  # a log's key name is its origin (tlog-checkpoint recommends it)
        self._logs = dict(logs)

    def latest(self, origin: str) -> dict[str, Any] | None:
        with self._lock, self.state_file.locked():
            return self.state_file.load()["logs"].get(origin)

    def add(self, request: AddRequest, now: datetime) -> Outcome:
        """The tlog-witness add-checkpoint checks, in the spec's order, and the state written before returning.
        Reading, checking and writing hold the lock, so concurrent requests cannot roll the state back."""
        try:
            note = parse_note(request.checkpoint)
            checkpoint = parse_checkpoint(note.text)
        except NoteError as exc:
            return Outcome(400, f"the checkpoint is malformed: {exc}")
        keys = self._logs.get(checkpoint.origin)
        if not keys:
            return Outcome(404, f"this witness does not follow the log {checkpoint.origin!r}")
        try:
            open_checkpoint(request.checkpoint, keys)
        except UnverifiedNote:
            return Outcome(403, f"the checkpoint carries no signature by the key of {checkpoint.origin!r}")
        except NoteError as exc:
            return Outcome(403, f"the checkpoint's signature does not verify: {exc}")
        if request.old > checkpoint.size:
            return Outcome(400, f"old size {request.old} is larger than the checkpoint's size {checkpoint.size}")
        with self._lock, self.state_file.locked():
            state = self.state_file.load()
            seen = state["logs"].get(checkpoint.origin)
            size = seen["size"] if seen else 0
            root = b64decode(seen["root_hash"]) if seen else EMPTY_ROOT
            if checkpoint.size == size and checkpoint.root_hash != root:
                # Two checkpoints of one size with two roots, both signed by the log: proof of a rewritten history.
                reason = (f"the log signed two different trees of size {size}: root {b64encode(root)} "
                          f"witnessed before, root {b64encode(checkpoint.root_hash)} now")
                self._record(state, request, seen, reason, now)
                return Outcome(409, reason, size=size, checkpoint=checkpoint, conflict=True)
            if request.old != size:
                if checkpoint.size < size:
                    log.warning("log %s sent a checkpoint of size %d, smaller than size %d this witness holds",
                                checkpoint.origin, checkpoint.size, size)
                return Outcome(409, f"this witness holds size {size} of {checkpoint.origin!r}, not {request.old}",
                               size=size, checkpoint=checkpoint)
            if not verify_consistency(size, checkpoint.size, root, checkpoint.root_hash, request.proof):
                reason = (f"the consistency proof from size {size} (root {b64encode(root)}, witnessed before) to "
                          f"size {checkpoint.size} (root {b64encode(checkpoint.root_hash)}) does not verify: the "
                          f"new tree does not extend the old one, so the log rewrote entries it had signed, or "
                          f"sent a wrong proof")
                self._record(state, request, seen, reason, now)
                return Outcome(422, reason, checkpoint=checkpoint, conflict=True)
            state["logs"][checkpoint.origin] = {
                "size": checkpoint.size, "root_hash": b64encode(checkpoint.root_hash),
                "checkpoint": request.checkpoint, "updated_at": _iso(now)}
            self.state_file.save(state)
        return Outcome(200, f"size {size} -> {checkpoint.size} is consistent", checkpoint=checkpoint)

    def record_rollback(self, checkpoint_note: str, now: datetime) -> Outcome:
        """A log that shows a smaller tree than the one this witness holds lost or withdrew entries it signed."""
        checkpoint = parse_checkpoint(parse_note(checkpoint_note).text)
        with self._lock, self.state_file.locked():
            state = self.state_file.load()
            seen = state["logs"].get(checkpoint.origin)
            size = seen["size"] if seen else 0
            if checkpoint.size >= size:  # the state moved since it was read: the caller checks again
                return Outcome(409, f"this witness now holds size {size}", size=size, checkpoint=checkpoint)
            reason = (f"the log shows a tree of size {checkpoint.size}, smaller than size {size} it signed "
                      f"before: entries it had committed are gone")
            self._record(state, AddRequest(size, [], checkpoint_note), seen, reason, now)
        return Outcome(409, reason, size=size, checkpoint=checkpoint, conflict=True)

    def _record(self, state: dict[str, Any], request: AddRequest, seen: dict[str, Any] | None, reason: str,
                now: datetime) -> None:
        """Keep the conflicting checkpoint beside the one witnessed before (saved before answering), and say so
        loudly: this is what a witness is for."""
        received = {"old": request.old, "proof": [b64encode(h) for h in request.proof],
                    "checkpoint": request.checkpoint}
        log.critical("INCONSISTENT LOG: %s. Both signed checkpoints are kept in the witness state as evidence.",
                     reason)
        if any(c["received"] == received for c in state["conflicts"]) or len(state["conflicts"]) >= MAX_CONFLICTS:
            return
        state["conflicts"].append({"detected_at": _iso(now), "reason": reason, "witnessed": seen,
                                   "received": received})
        self.state_file.save(state)


def _iso(now: datetime) -> str:
    return now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
