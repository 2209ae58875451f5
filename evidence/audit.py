"""Checks the log against a checkpoint signed earlier: the signature, then the root recomputed from the events
themselves (not from stored tree hashes, which whoever rewrote an event could have recomputed too)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from events import merkle

from . import notes


@dataclass(frozen=True)
class AuditResult:
    ok: bool
    size: int | None
    message: str


def audit(note_text: str, log_keys: Sequence[notes.VerifierKey], leaves: Sequence[bytes],
          witnesses: Sequence[notes.VerifierKey] = ()) -> AuditResult:
    """`leaves` are the leaf hashes recomputed from the log's events, in log_index order (at least as many as the
    checkpoint's size, unless the log lost events)."""
    try:
        checkpoint, whole = notes.open_checkpoint(note_text, log_keys)
    except notes.NoteError as exc:
        return AuditResult(False, None, f"the checkpoint does not verify with the log key: {exc}")
    for witness in witnesses:
        cosigned = [s for s in whole.signatures
                    if notes.verify_cosignature(checkpoint.body(), s, witness)]
        if not cosigned:
            return AuditResult(False, checkpoint.size, f"no valid cosignature by witness {witness.name}")
    if len(leaves) < checkpoint.size:
        return AuditResult(False, checkpoint.size, f"the checkpoint covers {checkpoint.size} events but the log "
                                                   f"holds only {len(leaves)}: events were removed")
    root = merkle.root_of(leaves[:checkpoint.size])
    if root != checkpoint.root_hash:
        return AuditResult(False, checkpoint.size,
                           f"the log's first {checkpoint.size} events no longer hash to the checkpoint's root: an "
                           f"event at a log index below {checkpoint.size} was changed, removed or reordered "
                           "after it was signed")
    return AuditResult(True, checkpoint.size, f"the log's first {checkpoint.size} events are exactly those the "
                                              f"checkpoint signed (root {notes.b64encode(root)}); the log has "
                                              f"grown to {len(leaves)} since")
