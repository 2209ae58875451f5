"""C2SP signed notes, tlog checkpoints and cosignature/v1, with Go `note` key formats (pure, Ed25519).

Specifications: c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature; the key texts are
those of golang.org/x/mod/sumdb/note (verifier `<name>+<hex id>+<base64(type || public key)>`, signer
`PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`), so Go tools read Vigil's keys and notes and the reverse.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01  # a log's checkpoint signature
COSIGNATURE_V1 = 0x04  # a witness's timestamped Ed25519 cosignature
KEY_TYPES = (ED25519, COSIGNATURE_V1)
SIGNATURE_SIZE = 64
TIMESTAMP_SIZE = 8
MAX_TIMESTAMP = 2**63 - 1
MAX_SIGNATURES = 100  # the spec asks for at least 16; Go's note package allows 100
SIGNATURE_PREFIX = "— "  # em dash U+2014, space
HASH_SIZE = 32

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed, or whose signatures do not verify; the message says which."""


class MalformedNote(NoteError):
    pass


class BadSignature(NoteError):
    """A signature by a known key failed to verify (the whole note is rejected, as Go's `note.Open` does)."""


class UnverifiedNote(NoteError):
    """No signature by any of the given keys."""


# ---- encodings ----

def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Standard base64, canonical only: a text that re-encodes differently is refused, so that no two texts
    stand for the same bytes (a changed character always changes what is verified)."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError(f"not base64: {text[:40]!r}") from exc
    if b64encode(data) != text:
        raise NoteError(f"not canonical base64: {text[:40]!r}")
    return data


def valid_name(name: str) -> bool:
    """A key name: non-empty, no Unicode space, no '+' (signed-note)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name) and _no_controls(name)


def _no_controls(text: str) -> bool:
    return not any(ord(c) < 0x20 and c != "\n" for c in text)


def key_id(name: str, key_type: int, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


# ---- keys ----

@dataclass(frozen=True)
class VerifierKey:
    """A public key with its name and signature type; `str()` is the Go `note` verifier key text."""
    name: str
    key_type: int
    public_key: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.key_type, self.public_key)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{b64encode(bytes([self.key_type]) + self.public_key)}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """`signature` (without the key id) over a note's text, by this key's signature type."""
        public = Ed25519PublicKey.from_public_bytes(self.public_key)
        if self.key_type == COSIGNATURE_V1:
            if len(signature) != TIMESTAMP_SIZE + SIGNATURE_SIZE:
                return False
            timestamp = int.from_bytes(signature[:TIMESTAMP_SIZE], "big")
            if timestamp > MAX_TIMESTAMP:
                return False
            message, signature = cosignature_message(timestamp, text), signature[TIMESTAMP_SIZE:]
        else:
            message = text
            if len(signature) != SIGNATURE_SIZE:
                return False
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: str) -> VerifierKey:
    """A Go `note` verifier key `<name>+<8 hex id>+<base64(type || 32-byte Ed25519 key)>`, type 0x01 or 0x04."""
    name, _, rest = text.partition("+")
    id_hex, _, key64 = rest.partition("+")
    if not valid_name(name) or not re.fullmatch(r"[0-9a-fA-F]{8}", id_hex):
        raise NoteError("malformed verifier key: expected <name>+<8 hex digits>+<base64 key>")
    key = b64decode(key64)
    if not key or key[0] not in KEY_TYPES:
        raise NoteError(f"verifier key of an unknown type (0x{key[0]:02x})" if key else "empty verifier key")
    if len(key) != 1 + 32:
        raise NoteError("malformed verifier key: an Ed25519 public key is 32 bytes")
    verifier = VerifierKey(name, key[0], key[1:])
    if verifier.key_id != int(id_hex, 16):
        raise NoteError("verifier key's id does not match its name and key")
    return verifier


def as_cosigner(verifier: VerifierKey) -> VerifierKey:
    """A witness's verifier for cosignature/v1, also from its plain Ed25519 (0x01) key, as
    transparency-dev/formats' `NewVerifierForCosignatureV1` reads one (its key id changes with the type)."""
    return VerifierKey(verifier.name, COSIGNATURE_V1, verifier.public_key)


@dataclass(frozen=True)
class SignerKey:
    """A private Ed25519 key with its name and signature type; `str()` is the Go `note` signer key text."""
    name: str
    key_type: int
    seed: bytes

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> VerifierKey:
        public = self._private().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return VerifierKey(self.name, self.key_type, public)

    def __str__(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{b64encode(bytes([self.key_type]) + self.seed)}"

    def __repr__(self) -> str:  # never the seed in a log or traceback
        return f"SignerKey(name={self.name!r}, key_type={self.key_type:#04x})"

    def sign_raw(self, message: bytes) -> bytes:
        return self._private().sign(message)


def generate_signer(name: str, key_type: int = ED25519) -> SignerKey:
    if not valid_name(name):
        raise NoteError(f"invalid key name {name!r}: non-empty, with no spaces and no '+'")
    if key_type not in KEY_TYPES:
        raise NoteError(f"unknown key type 0x{key_type:02x}")
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return SignerKey(name, key_type, seed)


def parse_signer_key(text: str) -> SignerKey:
    """A Go `note` signer key `PRIVATE+KEY+<name>+<8 hex id>+<base64(type || 32-byte seed)>`."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError("malformed signer key: expected PRIVATE+KEY+<name>+<8 hex digits>+<base64 seed>")
    _, _, name, id_hex, key64 = parts
    if not valid_name(name) or not re.fullmatch(r"[0-9a-fA-F]{8}", id_hex):
        raise NoteError("malformed signer key: bad name or key id")
    key = b64decode(key64)
    if len(key) != 1 + 32 or key[0] not in KEY_TYPES:
        raise NoteError("malformed signer key: expected a type byte 0x01 or 0x04 and a 32-byte Ed25519 seed")
    signer = SignerKey(name, key[0], key[1:])
    if signer.verifier.key_id != int(id_hex, 16):
        raise NoteError("signer key's id does not match its name and key")
    return signer


# ---- signed notes ----

@dataclass(frozen=True)
class Signature:
    name: str
    key_id: int
    signature: bytes  # after the 4-byte key id

    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(self.key_id.to_bytes(4, 'big') + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends in a newline; the signed bytes are its UTF-8
    signatures: tuple[Signature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _text_check(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedNote("malformed note: its text must end in a newline")
    if not _no_controls(text):
        raise MalformedNote("malformed note: control characters other than newline")


def parse_note(message: str | bytes) -> Note:
    """A signed note's text and signature lines, nothing verified: the text ends at the last blank line."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote("malformed note: not UTF-8") from exc
    if not _no_controls(message):
        raise MalformedNote("malformed note: control characters other than newline")
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNote("malformed note: no blank line before the signatures")
    text, lines = message[:split + 1], message[split + 2:]
    if not lines or not lines.endswith("\n"):
        raise MalformedNote("malformed note: no signature lines, or the last one does not end in a newline")
    signatures = []
    for line in lines[:-1].split("\n"):
        if len(signatures) == MAX_SIGNATURES:
            raise MalformedNote(f"malformed note: more than {MAX_SIGNATURES} signatures")
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNote(f"malformed note: not a signature line: {line[:60]!r}")
        name, _, b64 = line[len(SIGNATURE_PREFIX):].partition(" ")
        if not valid_name(name) or not b64:
            raise MalformedNote(f"malformed note: bad signature line: {line[:60]!r}")
        try:
            raw = b64decode(b64)
        except NoteError as exc:
            raise MalformedNote(f"malformed note: signature of {name} is not base64") from exc
        if len(raw) < 5:
            raise MalformedNote(f"malformed note: signature of {name} is too short")
        signatures.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return Note(text, tuple(signatures))


def open_note(message: str | bytes, verifiers: Iterable[VerifierKey]) -> tuple[Note, Note]:
    """Verify a note by the given keys, as c2sp.org/signed-note and Go's `note.Open` do: signatures by unknown
    keys (name and id not both matching) are set aside; a known key's bad signature rejects the note
    (`BadSignature`); a note with no good signature by a known key is rejected (`UnverifiedNote`).
    Returns (the note with its verified signatures, the note with the unverified ones); repeats are dropped."""
    note = parse_note(message)
    known: dict[tuple[str, int], VerifierKey] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known and known[(v.name, v.key_id)] != v:
            raise NoteError(f"ambiguous key {v.name}+{v.key_id:08x}")
        known[(v.name, v.key_id)] = v
    text = note.text.encode("utf-8")
    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[Signature, None] = {}
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.setdefault(sig)
            continue
        if (sig.name, sig.key_id) in verified:
            continue
        if not verifier.verify(text, sig.signature):
            raise BadSignature(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        verified[(sig.name, sig.key_id)] = sig
    if not verified:
        raise UnverifiedNote("note has no verifiable signatures" +
                             (f" (signed by {', '.join(sorted({s.name for s in note.signatures}))})"
                              if note.signatures else ""))
    return Note(note.text, tuple(verified.values())), Note(note.text, tuple(unverified))


def sign_note(text: str, signer: SignerKey) -> Note:
    """A note over `text` with one Ed25519 (type 0x01) signature."""
    _text_check(text)
    if signer.key_type != ED25519:
        raise NoteError("a note is signed with an Ed25519 (0x01) key; a 0x04 key makes cosignatures")
    signature = signer.sign_raw(text.encode("utf-8"))
    return Note(text, (Signature(signer.name, signer.verifier.key_id, signature),))


# ---- checkpoints (c2sp.org/tlog-checkpoint) ----

@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The note text: origin, decimal size, base64 root hash, any extension lines, each ending in a newline."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(body: str) -> Checkpoint:
    """A checkpoint's note text; anything malformed raises NoteError naming the line."""
    if not body.endswith("\n"):
        raise NoteError("malformed checkpoint: its text must end in a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("malformed checkpoint: expected origin, tree size and root hash lines")
    origin, size, root, *extensions = lines
    if not origin or not _no_controls(origin):
        raise NoteError("malformed checkpoint: empty origin line")
    if not _DECIMAL.fullmatch(size) or int(size) > MAX_TIMESTAMP:
        raise NoteError(f"malformed checkpoint: tree size {size[:30]!r} is not a decimal without leading zeroes")
    try:
        root_hash = b64decode(root)
    except NoteError as exc:
        raise NoteError("malformed checkpoint: root hash is not base64") from exc
    if len(root_hash) != HASH_SIZE:
        raise NoteError(f"malformed checkpoint: root hash is {len(root_hash)} bytes, not {HASH_SIZE}")
    if any(not line or not _no_controls(line) for line in extensions):
        raise NoteError("malformed checkpoint: empty extension line")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: SignerKey) -> str:
    """The signed checkpoint note text."""
    return str(sign_note(checkpoint.body(), signer))


def open_checkpoint(message: str | bytes, log_keys: Sequence[VerifierKey]) -> tuple[Checkpoint, Note]:
    """A checkpoint note verified by one of the log's keys, and the note with every signature line it carries
    (the log's and any cosignatures, unverified) so that it can be kept and passed on whole."""
    verified, _ = open_note(message, log_keys)
    return parse_checkpoint(verified.text), parse_note(message)


# ---- cosignatures (c2sp.org/tlog-cosignature, cosignature/v1) ----

def cosignature_message(timestamp: int, body: bytes) -> bytes:
    """What a cosignature/v1 signs: "cosignature/v1\\ntime <seconds>\\n" and the checkpoint's note text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def cosign(body: str, signer: SignerKey, timestamp: int) -> Signature:
    """A witness's cosignature/v1 of a checkpoint's note text at `timestamp` (POSIX seconds)."""
    parse_checkpoint(body)
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError("cosignature timestamp out of range")
    cosigner = signer if signer.key_type == COSIGNATURE_V1 else SignerKey(signer.name, COSIGNATURE_V1, signer.seed)
    signature = cosigner.sign_raw(cosignature_message(timestamp, body.encode("utf-8")))
    return Signature(cosigner.name, cosigner.verifier.key_id, timestamp.to_bytes(8, "big") + signature)


def cosignature_timestamp(signature: Signature) -> int:
    if len(signature.signature) != TIMESTAMP_SIZE + SIGNATURE_SIZE:
        raise NoteError("not a cosignature/v1 signature")
    return int.from_bytes(signature.signature[:TIMESTAMP_SIZE], "big")


def verify_cosignature(body: str, signature: Signature, witness: VerifierKey) -> bool:
    """Whether `signature` is `witness`'s cosignature/v1 over the checkpoint text `body`."""
    witness = as_cosigner(witness)
    return ((signature.name, signature.key_id) == (witness.name, witness.key_id)
            and witness.verify(body.encode("utf-8"), signature.signature))
