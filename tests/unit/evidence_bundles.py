"""Real evidence bundles for the tests and the benchmark: a log of several cases' events in a real RFC 6962 tree,
a checkpoint signed with a real Ed25519 key (cryptography) and cosigned by real witness keys."""
from __future__ import annotations

import base64
import hashlib
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from events import merkle
from events.hashchain import GENESIS, chain_hash
from events.records import StoredEvent
from evidence.bundle import BundleEvent, build_bundle

ORIGIN = "vigil.example.org/log"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
EXPORTED_AT = datetime(2026, 5, 2, 8, 30, 15, tzinfo=timezone.utc)
COSIGNED_AT = 1_777_700_000  # 2026-05-02 05:33:20 UTC
DOSSIER_HTML = "<!doctype html><title>Dossier</title><p>A. N. Person, detained 3 March 2026.</p>\n".encode()
DOSSIER_PDF = b"%PDF-1.7\n% not a real PDF: the bundle treats the dossier as opaque bytes\n%%EOF\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def verifier_key(name: str, kind: int, key: Ed25519PrivateKey) -> str:
    public = raw_public(key)
    return f"{name}+{key_id(name, kind, public).hex()}+{b64(bytes([kind]) + public)}"


def log_signature(name: str, key: Ed25519PrivateKey, body: str) -> str:
    return f"\u2014 {name} {b64(key_id(name, 0x01, raw_public(key)) + key.sign(body.encode()))}\n"


def cosignature(name: str, key: Ed25519PrivateKey, body: str, timestamp: int) -> str:
    signed = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    raw = key_id(name, 0x04, raw_public(key)) + timestamp.to_bytes(8, "big") + key.sign(signed)
    return f"\u2014 {name} {b64(raw)}\n"


class Tree:
    """An append-only RFC 6962 tree keeping every complete subtree, as a store would."""

    def __init__(self) -> None:
        self.size = 0
        self.pieces: dict[merkle.Piece, bytes] = {}

    def append(self, data: bytes) -> int:
        index = self.size
        for level, position in merkle.completed_pieces(index):
            self.pieces[(level, position)] = merkle.leaf_hash(data) if level == 0 else merkle.node_hash(
                self.pieces[(level - 1, 2 * position)], self.pieces[(level - 1, 2 * position + 1)])
        self.size += 1
        return index

    def root(self, size: int) -> bytes:
        return merkle.subtree_hash(0, size, self.pieces)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.proof_from(merkle.inclusion_ranges(index, size), lambda wanted: self.pieces)


def stored_event(case_id: str, version: int, prev_hash: str, at: datetime, kind: str, data: dict,
                 event_id: str) -> StoredEvent:
    """A stored event with its real canonical bytes and chain hash; personal data stands in as ciphertext."""
    fields = dict(event_id=event_id, stream_id=case_id, version=version, type=kind, schema_version=1,
                  occurred_at=at, date_precision="day", recorded_at=at + timedelta(minutes=5), actor="team-a",
                  data_text=json.dumps(data, separators=(",", ":")),
                  source_text=json.dumps({"url": "https://news.example.org/a"}) if version % 3 == 0 else None)
    draft = StoredEvent(position=0, prev_hash=prev_hash, hash="", **fields)
    return StoredEvent(position=0, prev_hash=prev_hash, hash=chain_hash(prev_hash, draft.canonical()), **fields)


@dataclass
class Exported:
    """A bundle and what a reader would be given beside it."""
    zip_bytes: bytes
    case_id: str
    log_key: str
    witness_keys: list[str]
    events: list[BundleEvent] = field(default_factory=list)
    tree_size: int = 0
    log: list[bytes] = field(default_factory=list)  # every leaf's data, the other cases' events too


def make_bundle(events: int = 5, others_between: int = 2, witnesses: int = 2, erased: bool = False,
                seed: int = 1) -> Exported:
    """One case of `events` events (the last a PersonalDataErased if `erased`) whose appends are interleaved with
    `others_between` events of other cases each, so its log indexes have gaps; then a signed, cosigned
    checkpoint over the whole log and the bundle built from it. The same arguments give the same bytes."""
    log_key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"log key %d" % seed).digest())
    witness = [(f"witness{i}.example.net/w", Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(b"witness %d %d" % (seed, i)).digest())) for i in range(witnesses)]
    rng = random.Random(seed)
    case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    tree = Tree()
    heads: dict[str, tuple[int, str]] = {}
    log: list[bytes] = []

    def append(stream: str, kind: str, data: dict) -> tuple[StoredEvent, int]:
        version, prev = heads.get(stream, (0, GENESIS))
        event = stored_event(stream, version + 1, prev, START + timedelta(hours=tree.size), kind, data,
                             str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        heads[stream] = (version + 1, event.hash)
        log.append(event.canonical())
        return event, tree.append(event.canonical())

    mine: list[BundleEvent] = []
    for number in range(events):
        for other in range(others_between):
            append(f"other-{other}", "NoteAdded", {"text": f"elsewhere {number}"})
        if number == 0:
            kind, data = "CaseOpened", {"person": "v1.c2VhbGVkIHBlcnNvbg==", "country": "FR", "teams": []}
        elif erased and number == events - 1:
            kind, data = "PersonalDataErased", {"erased_by": "admin", "reason": "asked by the family"}
        else:
            kind, data = "NoteAdded", {"text": f"note {number}"}
        event, index = append(case_id, kind, data)
        mine.append(BundleEvent.of(event, index))
    append("other-late", "NoteAdded", {"text": "after the case's last event"})

    body = f"{ORIGIN}\n{tree.size}\n{b64(tree.root(tree.size))}\n"
    checkpoint = body + "\n" + log_signature(ORIGIN, log_key, body)
    for offset, (name, key) in enumerate(witness):
        checkpoint += cosignature(name, key, body, COSIGNED_AT + offset)
    zip_bytes = build_bundle(
        case_id=case_id, events=mine, inclusion={e.log_index: tree.inclusion(e.log_index, tree.size) for e in mine},
        checkpoint=checkpoint, log_key=verifier_key(ORIGIN, 0x01, log_key), dossier_html=DOSSIER_HTML,
        dossier_pdf=DOSSIER_PDF, exported_at=EXPORTED_AT, erased=erased)
    return Exported(zip_bytes, case_id, verifier_key(ORIGIN, 0x01, log_key),
                    [verifier_key(name, 0x04, key) for name, key in witness], mine, tree.size, log)
