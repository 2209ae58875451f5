"""Assembles a case's evidence bundle, the zip a court checks offline with the verify.py inside it (pure)."""
from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Mapping, Sequence

from events.records import StoredEvent
from events.utc import UTC, iso

from . import verify_bundle
from .verify_bundle import FORMAT, MANIFEST, Checkpoint, Failure, dump_event_line, dump_manifest, dump_proofs

VERIFIER = Path(verify_bundle.__file__).read_bytes()


class BundleError(ValueError):
    """The inputs do not make a bundle that verifies; the message names the first check that fails."""


@dataclass(frozen=True)
class BundleEvent:
    """One event as the bundle carries it: its canonical bytes (personal data only as ciphertext) and links."""
    log_index: int
    case_id: str
    version: int
    event_id: str
    type: str
    canonical: bytes
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, event: StoredEvent, log_index: int) -> BundleEvent:
        return cls(log_index, event.stream_id, event.version, event.event_id, event.type, event.canonical(),
                   event.prev_hash, event.hash)

    def line(self) -> str:
        return dump_event_line({"log_index": self.log_index, "case_id": self.case_id, "version": self.version,
                                "event_id": self.event_id, "type": self.type,
                                "canonical": _b64(self.canonical), "prev_hash": self.prev_hash,
                                "hash": self.hash})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _checkpoint_head(checkpoint: str) -> tuple[int, str]:
    """The tree size and base64 root hash of a checkpoint note."""
    try:
        head = Checkpoint(checkpoint.encode("utf-8"))
    except Failure as failure:
        raise BundleError(f"{failure.where}: {failure.what}") from None
    return head.size, _b64(head.root)


def build_bundle(*, case_id: str, events: Sequence[BundleEvent], inclusion: Mapping[int, Sequence[bytes]],
                 checkpoint: str, log_key: str, dossier_html: bytes, dossier_pdf: bytes,
                 exported_at: datetime, erased: bool) -> bytes:
    """The bundle zip for one case: `events` in version order, `inclusion` the audit path of each event's
    log_index in the tree `checkpoint` signs, `log_key` the log's verifier key. Raises BundleError, naming the
    check, if the result would not verify (so no bundle that fails its own verify.py leaves Vigil)."""
    size, root = _checkpoint_head(checkpoint)
    try:
        proofs = [{"log_index": e.log_index, "hashes": [_b64(h) for h in inclusion[e.log_index]]}
                  for e in events]
    except KeyError as missing:
        raise BundleError(f"no inclusion proof for log index {missing.args[0]}") from None
    files = {
        "dossier.pdf": dossier_pdf,
        "dossier.html": dossier_html,
        "events.jsonl": "".join(e.line() for e in events).encode("ascii"),
        "checkpoint.txt": checkpoint.encode("utf-8"),
        "proofs.json": dump_proofs({"tree_size": size, "root_hash": root, "inclusion": proofs}).encode("ascii"),
        "log-key.txt": (log_key.strip() + "\n").encode("utf-8"),
        "verify.py": VERIFIER,
    }
    manifest = {"format": FORMAT, "case_id": case_id, "exported_at": iso(exported_at), "erased": erased,
                "files": {name: hashlib.sha256(files[name]).hexdigest() for name in sorted(files)}}
    files[MANIFEST] = dump_manifest(manifest).encode("ascii")
    try:
        verify_bundle.check_bundle(files)
    except Failure as failure:
        raise BundleError(f"{failure.where}: {failure.what}") from None
    return _zip(files, exported_at)


def _zip(files: Mapping[str, bytes], exported_at: datetime) -> bytes:
    """The files in a fixed order with fixed metadata, so the same inputs give the same bytes."""
    stamp = exported_at.astimezone(UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name == "verify.py" else 0o644) << 16
            bundle.writestr(info, data)
    return out.getvalue()
