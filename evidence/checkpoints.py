"""The log's signing side: its Ed25519 key (made on first use, sealed under the master key), checkpoints signed when
the log has grown, every one kept, and the checkpoint served with the cosignatures witnesses returned."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from events import merkle
from events.clock import Clock
from events.log_tree import LogTree
from events.personal_data import PersonalDataCipher
from events.transactions import writing

from . import notes
from .tables import checkpoints, cosignatures, log_keys

log = logging.getLogger("vigil.log")
KEY_CONTEXT = "log-key"


class LogRewritten(Exception):
    """The stored tree no longer extends a checkpoint the log signed: someone changed history. Never signed over."""


def origin_from(public_url: str) -> str:
    """The default log origin: the public URL's host and path, then `/log` (e.g. vigil.example.org/log)."""
    parts = urlsplit(public_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/log"


@dataclass(frozen=True)
class Signed:
    checkpoint: notes.Checkpoint
    note: str  # the log's signed note, no cosignatures


class LogKey:
    """The log's signing key: one per database, generated the first time it is needed."""

    def __init__(self, engine: Engine, cipher: PersonalDataCipher, clock: Clock, name: str):
        self.engine, self.cipher, self.clock, self.name = engine, cipher, clock, name
        self._signer: notes.SignerKey | None = None

    def verifier(self) -> notes.VerifierKey:
        with self.engine.connect() as conn:
            stored = stored_verifier(conn)
        return stored or self.signer().verifier

    def signer(self) -> notes.SignerKey:
        if self._signer is None:
            self._signer = self._load() or self._create()
        return self._signer

    def _load(self) -> notes.SignerKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(log_keys.c.sealed_signer).where(log_keys.c.id == 1)).first()
        return None if row is None else notes.parse_signer_key(self.cipher.open_secret(row.sealed_signer, KEY_CONTEXT))

    def _create(self) -> notes.SignerKey:
        signer = notes.generate_signer(self.name)
        try:
            with writing(self.engine) as conn:
                conn.execute(insert(log_keys).values(id=1, verifier_key=str(signer.verifier),
                                                     sealed_signer=self.cipher.seal_secret(str(signer), KEY_CONTEXT),
                                                     created_at=self.clock.now()))
        except IntegrityError:  # another process made it first: use theirs
            pass
        loaded = self._load()
        assert loaded is not None
        return loaded


def stored_verifier(conn: Connection) -> notes.VerifierKey | None:
    """The log key's public half, readable without the master key (None before the first checkpoint)."""
    row = conn.execute(select(log_keys.c.verifier_key).where(log_keys.c.id == 1)).first()
    return None if row is None else notes.parse_verifier_key(row.verifier_key)


def latest(conn: Connection) -> tuple[notes.Checkpoint, str, datetime] | None:
    row = conn.execute(select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1)).first()
    if row is None:
        return None
    return notes.parse_checkpoint(notes.parse_note(row.note).text), row.note, row.signed_at


def with_cosignatures(conn: Connection, size: int, note: str) -> str:
    lines = conn.execute(select(cosignatures.c.line).where(cosignatures.c.tree_size == size)
                         .order_by(cosignatures.c.received_at, cosignatures.c.witness)).scalars()
    return note + "".join(line if line.endswith("\n") else line + "\n" for line in lines)


class Checkpointer:
    """Signs a checkpoint when the log has grown and the last one is `every` old, never one that does not extend
    the last it signed."""

    def __init__(self, engine: Engine, clock: Clock, tree: LogTree, key: LogKey, origin: str, every: timedelta):
        self.engine, self.clock, self.tree, self.key, self.origin, self.every = engine, clock, tree, key, origin, every

    def sign_if_due(self, force: bool = False) -> Signed | None:
        now = self.clock.now()
        with self.engine.connect() as conn:
            size = self.tree.size(conn)
            last = latest(conn)
            if last is not None:
                previous, _, signed_at = last
                if size <= previous.size or (not force and now - signed_at < self.every):
                    return None
            elif size == 0:
                return None
            root = self.tree.root(conn, size)
            if last is not None:
                proof = self.tree.consistency(conn, previous.size, size)
                if not merkle.verify_consistency(previous.size, size, previous.root_hash, root, proof):
                    log.critical("the log at size %d does not extend the checkpoint it signed at size %d: history "
                                 "was rewritten; no checkpoint is signed", size, previous.size)
                    raise LogRewritten(f"the stored tree of size {size} is not consistent with the signed "
                                       f"checkpoint of size {previous.size}")
        checkpoint = notes.Checkpoint(self.origin, size, root)
        note = notes.sign_checkpoint(checkpoint, self.key.signer())
        try:
            with writing(self.engine) as conn:
                conn.execute(insert(checkpoints).values(tree_size=size, root_hash=notes.b64encode(root), note=note,
                                                        signed_at=now))
        except IntegrityError:  # another process signed this size at the same moment
            return None
        return Signed(checkpoint, note)

    def latest_size(self) -> int | None:
        with self.engine.connect() as conn:
            last = latest(conn)
        return None if last is None else last[0].size

    def latest_note(self) -> str | None:
        """The latest checkpoint as the log signed it (no cosignatures): what witnesses are offered."""
        with self.engine.connect() as conn:
            last = latest(conn)
        return None if last is None else last[1]

    def published(self, size: int) -> dict | None:
        """The checkpoint of this size as outsiders are sent it (the log.checkpoint webhook): its fields, the signed
        note with every cosignature gathered so far, and the log's verifier key; None if no checkpoint has it."""
        with self.engine.connect() as conn:
            note = conn.execute(select(checkpoints.c.note).where(checkpoints.c.tree_size == size)).scalar()
            if note is None:
                return None
            checkpoint = notes.parse_checkpoint(notes.parse_note(note).text)
            cosigned = with_cosignatures(conn, size, note)
        return {"origin": checkpoint.origin, "tree_size": checkpoint.size,
                "root_hash": notes.b64encode(checkpoint.root_hash), "checkpoint": cosigned,
                "log_key": str(self.key.verifier())}

    def current(self) -> str | None:
        """The latest checkpoint with every cosignature it has gathered."""
        with self.engine.connect() as conn:
            last = latest(conn)
            return None if last is None else with_cosignatures(conn, last[0].size, last[1])
