"""The cases' data keys at rest: wrapped under the keyring's newest generation, moved to a new one when a case is
erased, and the generations nothing uses any more destroyed.

A wrapped key is `0x01 | generation (4 bytes) | nonce | AES-GCM(data key)`; a key wrapped before the keyring
existed (60 bytes: nonce and ciphertext) is still opened with the master key until an erasure moves it.
"""
from __future__ import annotations

import os

from sqlalchemy import Connection, Engine, bindparam, select, text, update

from .keyring import Keyring
from .personal_data import PersonalDataCipher, UndecryptableError
from .store import APPEND_LOCK_KEY
from .tables import case_keys
from .transactions import writing

HEADER = b"\x01"


def generation_of(wrapped: bytes) -> int | None:
    """The keyring generation a wrapped key is under, or None for one wrapped directly by the master key."""
    if len(wrapped) > 5 and wrapped[:1] == HEADER:
        return int.from_bytes(wrapped[1:5], "big")
    return None


def _context(case_id: str) -> bytes:
    return b"vigil-data-key:" + case_id.encode()


class DataKeys:
    def __init__(self, keyring: Keyring, cipher: PersonalDataCipher):
        self.keyring, self.cipher = keyring, cipher

    def wrap(self, case_id: str, data_key: bytes, generation: int | None = None) -> bytes:
        """Wrap under `generation`, or the newest one: call it inside the append's transaction, so a concurrent
        erasure's new generation is seen (it is written to the keyring before that erasure takes the lock)."""
        if generation is None:
            generation, kek = self.keyring.current()
        else:
            kek = self.keyring.get(generation)
        nonce = os.urandom(12)
        return HEADER + generation.to_bytes(4, "big") + nonce + kek.encrypt(nonce, data_key, _context(case_id))

    def unwrap(self, case_id: str, wrapped: bytes) -> bytes:
        generation = generation_of(wrapped)
        if generation is None:
            return self.cipher.unwrap(case_id, wrapped)
        body = wrapped[5:]
        try:
            return self.keyring.get(generation).decrypt(body[:12], body[12:], _context(case_id))
        except UndecryptableError:
            raise
        except Exception as exc:  # cryptography's InvalidTag: a key that is not this case's, or a wrong keyring
            raise UndecryptableError("data key does not open with this keyring") from exc

    def rewrap_all(self, conn: Connection, generation: int, erased: str) -> int:
        """Inside the erasure's transaction: every other case's key moves to `generation`; returns how many moved."""
        rows = conn.execute(select(case_keys.c.case_id, case_keys.c.wrapped_key).where(case_keys.c.case_id != erased))
        moved = [{"c": case_id, "w": self.wrap(case_id, self.unwrap(case_id, bytes(wrapped)), generation)}
                 for case_id, wrapped in rows if generation_of(bytes(wrapped)) != generation]
        if moved:
            conn.execute(update(case_keys).where(case_keys.c.case_id == bindparam("c"))
                         .values(wrapped_key=bindparam("w")), moved)
        return len(moved)

    def retire_unused(self, engine: Engine) -> set[int]:
        """Destroy every generation no stored key is under (the newest always stays). Runs under the append lock,
        so no append that wrapped under an older generation is still on its way to commit."""
        with writing(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK_KEY})
            used = {generation_of(bytes(w)) for w in conn.execute(select(case_keys.c.wrapped_key)).scalars()}
            return self.keyring.retire({g for g in used if g is not None})
