"""Passkeys (WebAuthn, through py_webauthn): a signed-in person registers one; later it alone signs them in (with the
device's own check of who holds it: user verification is required). Challenges are kept in the database, good once."""
from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, delete, insert, select, update

from events.clock import Clock
from events.tables import passkeys, people, webauthn_challenges
from events.transactions import writing

from .errors import InputError

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_CREDENTIAL_JSON = 64_000


class PasskeyRefused(Exception):
    """Not a passkey this server accepts now (unknown, wrong origin, stale challenge, its person disabled)."""


def relying_party(public_url: str) -> tuple[str, str]:
    """The RP ID (the public URL's host) and the origin (scheme, host and port) passkeys are bound to."""
    parts = urlsplit(public_url)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


# py_webauthn (with its CBOR and ASN.1 parsers) is imported by the methods that use it, not at start: it added
# about 7 MiB to every serving process, most of which never sees a passkey.
def base64url_to_bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def bytes_to_base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _credential(raw: Any) -> dict[str, Any]:
    """The browser's PublicKeyCredential as JSON, with the challenge its client data signed."""
    if not isinstance(raw, dict) or not isinstance(raw.get("response"), dict) or not isinstance(raw.get("id"), str):
        raise PasskeyRefused("not a credential")
    try:
        client_data = json.loads(base64url_to_bytes(raw["response"]["clientDataJSON"]))
        challenge = client_data["challenge"]
    except (KeyError, TypeError, ValueError):
        raise PasskeyRefused("unreadable client data") from None
    if not isinstance(challenge, str) or len(challenge) > 100:
        raise PasskeyRefused("unreadable challenge")
    return {**raw, "_challenge": challenge}


class PasskeyService:
    def __init__(self, engine: Engine, clock: Clock, public_url: str):
        self.engine, self.clock = engine, clock
        self.rp_id, self.origin = relying_party(public_url)

    def _challenge(self, purpose: str, person_id: str | None) -> bytes:
        challenge = secrets.token_bytes(32)
        now = self.clock.now()
        with writing(self.engine) as conn:
            conn.execute(delete(webauthn_challenges).where(webauthn_challenges.c.expires_at <= now))
            conn.execute(insert(webauthn_challenges).values(
                challenge=bytes_to_base64url(challenge), purpose=purpose, person_id=person_id,
                expires_at=now + CHALLENGE_LIFETIME))
        return challenge

    def _take_challenge(self, challenge: str, purpose: str, person_id: str | None) -> bytes:
        """Use up a challenge handed out for this purpose (and person), in a transaction of its own so that a
        response that then fails still uses it up; PasskeyRefused if there is none."""
        with writing(self.engine) as conn:
            found = conn.execute(delete(webauthn_challenges).where(
                webauthn_challenges.c.challenge == challenge, webauthn_challenges.c.purpose == purpose,
                webauthn_challenges.c.expires_at > self.clock.now(),
                *([webauthn_challenges.c.person_id == person_id] if person_id else [])))
        if found.rowcount != 1:
            raise PasskeyRefused("no such challenge")
        return base64url_to_bytes(challenge)

    def registration_options(self, person_id: str, name: str) -> str:
        import webauthn
        from webauthn.helpers.structs import (
            AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor, ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        with self.engine.connect() as conn:
            existing = conn.execute(select(passkeys.c.credential_id)
                                    .where(passkeys.c.person_id == person_id)).scalars().all()
        options = webauthn.generate_registration_options(
            rp_id=self.rp_id, rp_name="Vigil", user_id=person_id.encode(), user_name=name,
            user_display_name=name, challenge=self._challenge("register", person_id),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing],
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED))
        return webauthn.options_to_json(options)

    def register(self, person_id: str, raw: Any) -> None:
        """Verify a new credential against the challenge this person was given, and keep its public key."""
        import webauthn
        from webauthn.helpers.exceptions import InvalidRegistrationResponse

        credential = _credential(raw)
        challenge = self._take_challenge(credential.pop("_challenge"), "register", person_id)
        try:
            verified = webauthn.verify_registration_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=self.rp_id,
                expected_origin=self.origin, require_user_verification=True)
        except (InvalidRegistrationResponse, ValueError, TypeError, KeyError) as exc:
            raise InputError([{"loc": ["body", "credential"], "msg": f"not accepted: {exc}"[:300],
                               "type": "value_error"}]) from None
        with writing(self.engine) as conn:
            credential_id = bytes_to_base64url(verified.credential_id)
            if conn.execute(select(passkeys.c.person_id).where(passkeys.c.credential_id == credential_id)).first():
                raise InputError([{"loc": ["body", "credential"], "msg": "this passkey is registered already",
                                   "type": "value_error"}])
            conn.execute(insert(passkeys).values(
                credential_id=credential_id, person_id=person_id, public_key=verified.credential_public_key,
                sign_count=verified.sign_count, created_at=self.clock.now()))

    def signin_options(self) -> str:
        import webauthn
        from webauthn.helpers.structs import UserVerificationRequirement

        options = webauthn.generate_authentication_options(
            rp_id=self.rp_id, challenge=self._challenge("signin", None),
            user_verification=UserVerificationRequirement.REQUIRED)
        return webauthn.options_to_json(options)

    def sign_in(self, raw: Any) -> str:
        """The id of the person whose passkey this is, if it verifies and they may act; else PasskeyRefused."""
        import webauthn
        from webauthn.helpers.exceptions import InvalidAuthenticationResponse

        credential = _credential(raw)
        challenge = self._take_challenge(credential.pop("_challenge"), "signin", None)
        with writing(self.engine) as conn:
            row = conn.execute(
                select(passkeys.c.credential_id, passkeys.c.public_key, passkeys.c.sign_count, people.c.id)
                .join(people, people.c.id == passkeys.c.person_id)
                .where(passkeys.c.credential_id == credential["id"], people.c.disabled_at.is_(None),
                       people.c.enrolled_at.is_not(None))).first()
            if row is None:
                raise PasskeyRefused("unknown passkey")
            try:
                verified = webauthn.verify_authentication_response(
                    credential=credential, expected_challenge=challenge, expected_rp_id=self.rp_id,
                    expected_origin=self.origin, credential_public_key=row.public_key,
                    credential_current_sign_count=row.sign_count, require_user_verification=True)
            except (InvalidAuthenticationResponse, ValueError, TypeError, KeyError):
                raise PasskeyRefused("does not verify") from None
            conn.execute(update(passkeys).where(passkeys.c.credential_id == row.credential_id)
                         .values(sign_count=verified.new_sign_count, last_used_at=self.clock.now()))
        return row.id

    def has_any(self, person_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(passkeys.c.credential_id)
                                .where(passkeys.c.person_id == person_id)).first() is not None

    def of_person(self, person_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(passkeys.c.credential_id, passkeys.c.created_at, passkeys.c.last_used_at)
                .where(passkeys.c.person_id == person_id).order_by(passkeys.c.created_at))]
