"""Passwords: the policy (length, not a common password) and argon2id hashing through argon2-cffi."""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1000  # argon2 takes any length; this only bounds the work one request can ask for
_hasher = PasswordHasher()  # argon2id, with the library's RFC 9106 "low memory" parameters


@lru_cache(maxsize=1)
def _dummy() -> str:
    """Verified when the account named does not exist, so that an unknown name costs as long as a wrong password.
    Made on first use, not at import: every CLI command imports this module and most never check a password."""
    return _hasher.hash("not a password anyone has")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (zxcvbn's list, from Xato's ten million leaked passwords), lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, name: str = "", email: str | None = None) -> str | None:
    """Why this password may not be chosen, in words for the person; None if it may."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    folded = password.lower()
    if folded in common_passwords() or len(set(folded)) < 4:
        return "is one of the most common passwords; choose another"
    if folded in {name.lower(), (email or "").lower()}:
        return "must not be your name or email address"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """True if `password` is the one `stored` was made from; an absent hash costs the same time and is False."""
    try:
        return _hasher.verify(stored or _dummy(), password[:MAX_LENGTH]) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
