"""The second factor: TOTP (RFC 6238, through pyotp) with its QR code drawn locally as SVG (segno), and one-time
recovery codes (kept only as SHA-256 hashes). Pure: every function takes `now` where time matters."""
from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp

ISSUER = "Vigil"
RECOVERY_CODES = 10
# A code of the step before or after the current one is still taken (a phone's clock a little off, a slow hand).
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (no image leaves the server; nothing is fetched)."""
    import segno  # about 1 MiB, wanted only while someone enrolls: not kept by every server from its start

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, xmldecl=False, svgns=True, title="TOTP QR code")
    return out.getvalue().decode()


def matching_step(secret: str, code: str, now: datetime, after_step: int | None) -> int | None:
    """The time step whose code this is (within the drift allowed), if later than `after_step`; else None.

    Returning the step lets the caller store it, so the same code (or an earlier one) is never taken twice."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 10 random base32 letters each, shown as xxxxx-xxxxx."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_hash(code: str) -> str:
    """How a recovery code is stored and looked up: case, spaces and dashes do not matter."""
    folded = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(folded.encode()).hexdigest()
