"""A software WebAuthn authenticator (P-256, "none" attestation) answering as a browser would, for tests without one."""
from __future__ import annotations

import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64u(raw: bytes) -> str:
    return urlsafe_b64encode(raw).decode().rstrip("=")


def unb64u(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, origin: str, rp_id: str, user_verified: bool = True):
        self.origin, self.rp_id, self.user_verified = origin, rp_id, user_verified
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.count = 0

    def _flags(self, extra: int = 0) -> bytes:
        return bytes([UP | (UV if self.user_verified else 0) | extra])

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict) -> dict:
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + self._flags(AT) + struct.pack(">I", self.count)
                     + bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose)
        client_data = self._client_data("webauthn.create", options["challenge"])
        return {"id": b64u(self.credential_id), "rawId": b64u(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64u(client_data),
                             "attestationObject": b64u(cbor2.dumps({"fmt": "none", "attStmt": {},
                                                                     "authData": auth_data}))},
                "clientExtensionResults": {}}

    def get(self, options: dict) -> dict:
        self.count += 1
        auth_data = hashlib.sha256(self.rp_id.encode()).digest() + self._flags() + struct.pack(">I", self.count)
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64u(self.credential_id), "rawId": b64u(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64u(client_data), "authenticatorData": b64u(auth_data),
                             "signature": b64u(signature), "userHandle": None},
                "clientExtensionResults": {}}
