"""Key-encryption keys (KEKs) for the cases' data keys: kept in a file outside the database, sealed under the
master key, one generation after another.

Erasing a case retires the generation that wrapped its data key (see `data_keys.py`), so what the database leaves
behind where Vigil cannot reach (PostgreSQL's WAL, replicas, backups) holds nothing a surviving key can open.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .personal_data import MasterKeyError, UndecryptableError

FORMAT = 1


class KeyringError(MasterKeyError):
    """The keyring file cannot be read, or does not open with this master key (the message holds no key)."""


class Keyring:
    """The KEK generations in one file; every process re-reads it when it changes, so all wrap under the newest."""

    def __init__(self, path: Path, master_key: bytes):
        self.path = Path(path)
        self._master = AESGCM(master_key)
        self._keys: dict[int, AESGCM] = {}
        self._seen: tuple[int, int, int] | None = None
        self._mutex = threading.Lock()
        self._checked = float("-inf")  # when `get` last looked at the file (monotonic seconds)

    # ---- reading ----
    def current(self) -> tuple[int, AESGCM]:
        """The newest generation, creating the keyring with its first one if there is none yet."""
        with self._mutex:
            if not self._refresh() or not self._keys:
                with self._locked():
                    if not self._read_sealed():
                        self._write({1: self._seal(1, AESGCM.generate_key(bit_length=256))})
                self._refresh()
            newest = max(self._keys)
            return newest, self._keys[newest]

    def get(self, generation: int) -> AESGCM:
        """The generation's key. Reading a page unwraps a key per case: the file is looked at again only when the
        generation is unknown or a second has passed (so a retired generation leaves memory within a second)."""
        with self._mutex:
            if generation not in self._keys or time.monotonic() - self._checked > 1.0:
                self._refresh()
                self._checked = time.monotonic()
            try:
                return self._keys[generation]
            except KeyError:
                raise UndecryptableError(f"key generation {generation} is retired or not in {self.path}") from None

    def generations(self) -> set[int]:
        with self._mutex:
            self._refresh()
            return set(self._keys)

    # ---- changing ----
    def add_generation(self) -> int:
        """Add a new newest generation (the older ones stay until retired); returns its number."""
        with self._mutex, self._locked():
            sealed = self._read_sealed()
            generation = max(sealed, default=0) + 1
            sealed[generation] = self._seal(generation, AESGCM.generate_key(bit_length=256))
            self._write(sealed)
            self._seen = None
            self._refresh()  # this process wraps under the new generation at once
            return generation

    def retire(self, keep: set[int]) -> set[int]:
        """Destroy every generation but the newest and those in `keep`; returns the ones destroyed."""
        with self._mutex, self._locked():
            sealed = self._read_sealed()
            kept = {g: s for g, s in sealed.items() if g in keep or g == max(sealed, default=0)}
            if len(kept) != len(sealed):
                self._write(kept)
            self._seen = None
            self._refresh()  # this process forgets a retired generation at once
            return set(sealed) - set(kept)

    # ---- the file ----
    def _refresh(self) -> bool:
        """Re-read the file if it changed since last read; False if there is no file."""
        try:
            with open(self.path, "rb") as handle:
                st = os.fstat(handle.fileno())
                seen = (st.st_ino, st.st_mtime_ns, st.st_size)
                if seen == self._seen:
                    return True
                sealed = self._parse(handle.read())
        except FileNotFoundError:
            self._keys, self._seen = {}, None
            return False
        except OSError as exc:
            raise KeyringError(f"cannot read the keyring {self.path}: {exc.strerror}") from None
        self._keys = {g: AESGCM(self._open(g, s)) for g, s in sealed.items()}
        self._seen = seen
        return True

    def _read_sealed(self) -> dict[int, str]:
        try:
            return self._parse(self.path.read_bytes())
        except FileNotFoundError:
            return {}

    def _parse(self, raw: bytes) -> dict[int, str]:
        try:
            body = json.loads(raw)
            if body.get("format") != FORMAT:
                raise ValueError("unknown format")
            return {int(g): s for g, s in body["keys"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KeyringError(f"the keyring {self.path} is damaged (not a Vigil keyring)") from None

    def _seal(self, generation: int, kek: bytes) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._master.encrypt(nonce, kek, b"vigil-kek:%d" % generation)).decode()

    def _open(self, generation: int, sealed: str) -> bytes:
        raw = base64.b64decode(sealed)
        try:
            return self._master.decrypt(raw[:12], raw[12:], b"vigil-kek:%d" % generation)
        except InvalidTag:
            raise KeyringError(f"the keyring {self.path} does not open with this master key") from None

    def _write(self, sealed: dict[int, str]) -> None:
        """Replace the file atomically (a reader sees the old or the new, never half), readable by its owner only."""
        body = json.dumps({"format": FORMAT, "keys": {str(g): s for g, s in sorted(sealed.items())}}).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes (the lock file sits beside the keyring)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
