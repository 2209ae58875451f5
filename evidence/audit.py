"""Checks the log against a checkpoint signed earlier: the signature, then the root recomputed from the events
themselves (not from stored tree hashes, which whoever rewrote an event could have recomputed too)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from . import notes


@dataclass(frozen=True)
class AuditResult:
    ok: bool
    size: int | None
    message: str


def audit(note_text: str, log_keys: Sequence[notes.VerifierKey], recomputed_root: Callable[[int], bytes | None],
          log_size: int, witnesses: Sequence[notes.VerifierKey] = ()) -> AuditResult:
    """`recomputed_root(n)` is the root of the log's first n events hashed again from the events themselves (None
    if the log lacks any of them); `log_size` is how many events the log holds now."""
    try:
        checkpoint, whole = notes.open_checkpoint(note_text, log_keys)
    except notes.NoteError as exc:
        return AuditResult(False, None, f"the checkpoint does not verify with the log key: {exc}")
    for witness in witnesses:
        cosigned = [s for s in whole.signatures
                    if notes.verify_cosignature(checkpoint.body(), s, witness)]
        if not cosigned:
            return AuditResult(False, checkpoint.size, f"no valid cosignature by witness {witness.name}")
    root = recomputed_root(checkpoint.size) if checkpoint.size <= log_size else None
    if root is None:
        return AuditResult(False, checkpoint.size, f"the checkpoint covers {checkpoint.size} events but the log "
                                                   f"no longer holds all of them ({log_size} now): events were "
                                                   "removed")
    if root != checkpoint.root_hash:
        return AuditResult(False, checkpoint.size,
                           f"the log's first {checkpoint.size} events no longer hash to the checkpoint's root: an "
                           f"event at a log index below {checkpoint.size} was changed, removed or reordered "
                           "after it was signed")
    return AuditResult(True, checkpoint.size, f"the log's first {checkpoint.size} events are exactly those the "
                                              f"checkpoint signed (root {notes.b64encode(root)}); the log now "
                                              f"holds {log_size}")
