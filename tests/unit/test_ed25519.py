"""verify.py's own Ed25519 verification: the RFC 8032 section 7.1 vectors, and agreement with OpenSSL's signer."""
from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from evidence.verify_bundle import _L, _P, _D, _decode_point, ed25519_verify

from .evidence_bundles import raw_public

# RFC 8032 section 7.1, TEST 1, 2, 3 and SHA(abc): public key, message, signature (data only).
RFC8032 = [
    ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf", hashlib.sha512(b"abc").hexdigest(),
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
]
VECTORS = [pytest.param(*(bytes.fromhex(v) for v in row), id=name)
           for name, row in zip(["TEST 1", "TEST 2", "TEST 3", "TEST SHA(abc)"], RFC8032)]


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.parametrize("public, message, signature", VECTORS)
def test_rfc8032_vectors_verify(public, message, signature):
    assert ed25519_verify(public, message, signature)


@pytest.mark.parametrize("public, message, signature", VECTORS)
@pytest.mark.parametrize("bit", [0, 7, 100, 255, 256, 300, 511])
def test_rfc8032_vectors_fail_with_any_bit_of_the_signature_changed(public, message, signature, bit):
    assert not ed25519_verify(public, message, flip(signature, bit))


@pytest.mark.parametrize("public, message, signature", VECTORS)
def test_rfc8032_vectors_fail_for_another_message_or_key(public, message, signature):
    assert not ed25519_verify(public, message + b"\x00", signature)
    assert not ed25519_verify(flip(public, 3), message, signature)
    assert not ed25519_verify(public[:31], message, signature)
    assert not ed25519_verify(public, message, signature[:63])


@pytest.mark.parametrize("public, message, signature", VECTORS)
def test_a_malleated_s_at_or_above_the_group_order_is_rejected(public, message, signature):
    # S + L gives the same point equation, so only the range check S < L rejects it (RFC 8032 5.1.7 step 1).
    s = int.from_bytes(signature[32:], "little") + _L
    assert s < 2 ** 256
    assert not ed25519_verify(public, message, signature[:32] + s.to_bytes(32, "little"))


def _encode(y: int, sign: int = 0) -> bytes:
    return (y | sign << 255).to_bytes(32, "little")


def test_point_encodings_with_y_at_or_above_p_are_rejected():
    assert _decode_point(_encode(1)) == (0, 1, 1, 0)  # the neutral point, canonically
    assert _decode_point(_encode(_P + 1)) is None  # the same point, spelled with y + p
    assert _decode_point(_encode(1, sign=1)) is None  # x = 0 with the sign bit set: "negative zero"
    assert _decode_point(_encode(2 ** 255 - 1)) is None


def test_points_decode_exactly_when_x_squared_is_a_square_mod_p():
    for y in range(2, 60):
        x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
        is_square = pow(x2, (_P - 1) // 2, _P) in (0, 1)  # Euler's criterion
        point = _decode_point(_encode(y))
        assert (point is not None) == is_square, y
        if point is not None:
            x, y_, z, t = point
            assert (-x * x + y_ * y_ - 1 - _D * x * x * y_ * y_) % _P == 0  # on the curve -x^2 + y^2 = 1 + d x^2 y^2


@settings(max_examples=60, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300), bit=st.integers(0, 511),
       where=st.sampled_from(["message", "signature", "key"]))
def test_agrees_with_openssl_signatures_and_rejects_altered_ones(seed, message, bit, where):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public, signature = raw_public(key), key.sign(message)
    assert ed25519_verify(public, message, signature)
    if where == "message":
        altered = (public, flip(message, bit % (8 * len(message))) if message else b"x", signature)
    elif where == "signature":
        altered = (public, message, flip(signature, bit))
    else:
        altered = (flip(public, bit % 256), message, signature)
    assert not ed25519_verify(*altered)
