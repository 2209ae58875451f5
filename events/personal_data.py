"""Per-case encryption of personal data: AES-GCM data keys (wrapped by data_keys.py) and master-key secrets."""
from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKEN_PREFIX = "v1."


class MasterKeyError(ValueError):
    """The master key is missing or malformed (the message never holds the key)."""


class MasterKeyMissing(MasterKeyError):
    """Neither VIGIL_MASTER_KEY is set nor the master key file exists (`path` is the file looked for)."""

    def __init__(self, path: str):
        super().__init__(f"no master key: VIGIL_MASTER_KEY is not set and {path} does not exist")
        self.path = path


def create_master_key_file(path: str) -> bool:
    """Write a new master key to `path`, created 0600 before anything is written; False if it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(new_master_key() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return True


class UndecryptableError(Exception):
    """The data key is gone (erased) or the ciphertext does not belong to this case."""


def parse_master_key(encoded: str) -> bytes:
    """A master key is 32 random bytes, base64-encoded."""
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyError("the master key is not valid base64") from exc
    if len(key) != 32:
        raise MasterKeyError("the master key must decode to 32 bytes")
    return key


def new_master_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


class PersonalDataCipher:
    """Wraps data keys under the master key and seals the `person` object of a case with its data key."""

    def __init__(self, master_key: bytes):
        self._master = AESGCM(master_key)
        self._master_key = master_key

    def derive_key(self, purpose: str) -> bytes:
        """A separate 32-byte key for another use (such as signing cookies), derived with HKDF."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=b"vigil:" + purpose.encode()).derive(self._master_key)

    @staticmethod
    def new_key() -> bytes:
        """A fresh 256-bit data key for a case (wrapped for storage by data_keys.DataKeys)."""
        return AESGCM.generate_key(bit_length=256)

    def unwrap(self, case_id: str, wrapped: bytes) -> bytes:
        """A data key wrapped directly by the master key, as before the keyring existed."""
        try:
            return self._master.decrypt(wrapped[:12], wrapped[12:], b"vigil-data-key:" + case_id.encode())
        except InvalidTag as exc:
            raise UndecryptableError("data key does not open with this master key") from exc

    @staticmethod
    def seal(data_key: bytes, case_id: str, person: dict[str, Any]) -> str:
        nonce = os.urandom(12)
        plaintext = json.dumps(person, separators=(",", ":"), sort_keys=True).encode()
        sealed = AESGCM(data_key).encrypt(nonce, plaintext, b"vigil-person:" + case_id.encode())
        return TOKEN_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    @staticmethod
    def open(data_key: bytes, case_id: str, token: str) -> dict[str, Any]:
        if not token.startswith(TOKEN_PREFIX):
            raise UndecryptableError("unknown personal-data token format")
        raw = base64.b64decode(token[len(TOKEN_PREFIX):])
        try:
            plaintext = AESGCM(data_key).decrypt(raw[:12], raw[12:], b"vigil-person:" + case_id.encode())
        except InvalidTag as exc:
            raise UndecryptableError("personal data does not open with this case's key") from exc
        return json.loads(plaintext)

    def seal_secret(self, value: str, context: str) -> str:
        """Seal a service secret (a webhook URL, a bot token) under the master key, bound to `context`."""
        nonce = os.urandom(12)
        sealed = self._master.encrypt(nonce, value.encode(), b"vigil-secret:" + context.encode())
        return TOKEN_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open_secret(self, token: str, context: str) -> str:
        raw = base64.b64decode(token[len(TOKEN_PREFIX):])
        try:
            return self._master.decrypt(raw[:12], raw[12:], b"vigil-secret:" + context.encode()).decode()
        except InvalidTag as exc:
            raise UndecryptableError("secret does not open with this master key") from exc
