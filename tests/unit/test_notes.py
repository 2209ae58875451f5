"""Signed notes, checkpoints and cosignatures: known answers from Go's note package and transparency-dev/formats,
and every one-byte change of a signed note or checkpoint refused."""
from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings, strategies as st

from evidence import notes
from evidence.notes import (COSIGNATURE_V1, ED25519, BadSignature, Checkpoint, MalformedNote, NoteError,
                            UnverifiedNote, cosign, cosignature_timestamp, open_checkpoint, open_note,
                            parse_checkpoint, parse_note, parse_signer_key, parse_verifier_key, sign_checkpoint,
                            sign_note, verify_cosignature)

# golang.org/x/mod/sumdb/note, note_test.go (data only)
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
PETER_SIG = ("— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6R"
             "yyBwJnAM=\n")
ENOCH_SIG = ("— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+Q"
             "Q=\n")
# transparency-dev/formats, note/note_cosigv1_test.go (data only)
COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
PLAIN_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
COSIGNATURE_B64 = ("ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFi"
                   "EBYJXORmnFBOBA==")


def test_go_verifier_key_parses_to_its_name_id_and_type():
    peter = parse_verifier_key(PETER_VKEY)
    assert (peter.name, peter.key_id, peter.key_type) == ("PeterNeumann", 0xC74F20A3, ED25519)
    assert str(peter) == PETER_VKEY


def test_go_signer_key_gives_the_published_verifier_key():
    signer = parse_signer_key(PETER_SKEY)
    assert str(signer.verifier) == PETER_VKEY
    assert str(signer) == PETER_SKEY
    assert "AYEKF" not in repr(signer)


def test_signing_gives_gos_signed_note_byte_for_byte():
    assert str(sign_note(TEXT, parse_signer_key(PETER_SKEY))) == TEXT + "\n" + PETER_SIG


def test_open_verifies_known_keys_and_sets_unknown_ones_aside():
    peter, enoch = parse_verifier_key(PETER_VKEY), parse_verifier_key(ENOCH_VKEY)
    verified, unverified = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter])
    assert verified.text == TEXT
    assert [s.name for s in verified.signatures] == ["PeterNeumann"]
    assert [(s.name, s.key_id) for s in unverified.signatures] == [("EnochRoot", 0xAF0CFE78)]
    verified, unverified = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch])
    assert [s.name for s in verified.signatures] == ["PeterNeumann", "EnochRoot"] and not unverified.signatures
    with pytest.raises(UnverifiedNote):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])


def test_a_known_keys_bad_signature_rejects_the_note():
    with pytest.raises(BadSignature, match="PeterNeumann\\+c74f20a3"):
        open_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [parse_verifier_key(PETER_VKEY)])


def test_repeated_signatures_are_dropped_and_the_count_is_limited():
    peter = parse_verifier_key(PETER_VKEY)
    verified, _ = open_note(TEXT + "\n" + PETER_SIG * 3, [peter])
    assert len(verified.signatures) == 1
    with pytest.raises(MalformedNote):
        open_note(TEXT + "\n" + PETER_SIG * 101, [peter])


@pytest.mark.parametrize("message", [
    TEXT,
    TEXT + "\n",
    TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + TEXT + "\n" + PETER_SIG,
    TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ")[2].rstrip("\n"),
    TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
])
def test_gos_malformed_notes_are_refused(message):
    with pytest.raises(MalformedNote):
        open_note(message, [parse_verifier_key(PETER_VKEY)])


def test_invalid_utf8_is_malformed():
    with pytest.raises(MalformedNote):
        parse_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode())


def test_every_changed_character_of_a_verifier_or_signer_key_is_refused():
    for key, parse in ((PETER_VKEY, parse_verifier_key), (PETER_SKEY, parse_signer_key)):
        for i in range(len(key)):
            changed = key[:i] + chr(ord(key[i]) + 1) + key[i + 1:]
            with pytest.raises(NoteError):
                parse(changed)
        for cut in (key[:-1], key[1:], key[:len(key) // 2]):
            with pytest.raises(NoteError):
                parse(cut)


def test_cosignature_keys_known_answers():
    cosigner = parse_verifier_key(COSIGNER_VKEY)
    assert (cosigner.name, cosigner.key_type, cosigner.key_id) == ("remora.n621.de", COSIGNATURE_V1, 0xDA77ADE7)
    plain = parse_verifier_key(PLAIN_VKEY)
    assert plain.key_type == ED25519 and notes.as_cosigner(plain).key_id != plain.key_id
    signature = parse_note("x\n\n— w " + COSIGNATURE_B64 + "\n").signatures[0]
    assert cosignature_timestamp(signature) == 1727964367


def test_key_id_is_the_specs_hash():
    peter = parse_verifier_key(PETER_VKEY)
    digest = hashlib.sha256(b"PeterNeumann\n\x01" + peter.public_key).digest()
    assert peter.key_id == int.from_bytes(digest[:4], "big")


# ---- checkpoints ----

ROOT = hashlib.sha256(b"root").digest()


def test_checkpoint_body_round_trips():
    checkpoint = Checkpoint("vigil.example.org/log", 20852163, ROOT, ("ext one",))
    body = checkpoint.body()
    assert body == f"vigil.example.org/log\n20852163\n{notes.b64encode(ROOT)}\next one\n"
    assert parse_checkpoint(body) == checkpoint


def test_spec_example_checkpoint_body_parses():
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = parse_checkpoint(body)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.body() == body


@pytest.mark.parametrize("body", [
    "",
    "origin\n12\n",
    "origin\n12\n" + notes.b64encode(ROOT),  # no final newline
    "\n12\n" + notes.b64encode(ROOT) + "\n",
    "origin\n012\n" + notes.b64encode(ROOT) + "\n",
    "origin\n-1\n" + notes.b64encode(ROOT) + "\n",
    "origin\n1 \n" + notes.b64encode(ROOT) + "\n",
    "origin\n99999999999999999999\n" + notes.b64encode(ROOT) + "\n",
    "origin\n12\n" + notes.b64encode(ROOT[:31]) + "\n",
    "origin\n12\nnot base64!\n",
    "origin\n12\n" + notes.b64encode(ROOT) + "\n\n",  # empty extension line
])
def test_malformed_checkpoints_are_refused(body):
    with pytest.raises(NoteError, match="checkpoint"):
        parse_checkpoint(body)


def _flips(data: bytes):
    for i in range(len(data)):
        for change in (0x01, 0x20, 0x80):
            yield data[:i] + bytes([data[i] ^ change]) + data[i + 1:]


def test_every_one_byte_change_of_a_signed_checkpoint_fails():
    log = notes.generate_signer("vigil.example.org/log")
    signed = sign_checkpoint(Checkpoint("vigil.example.org/log", 7, ROOT), log).encode()
    checkpoint, _ = open_checkpoint(signed, [log.verifier])
    assert checkpoint.size == 7
    for changed in _flips(signed):
        with pytest.raises(NoteError):
            open_checkpoint(changed, [log.verifier])


def test_every_one_byte_change_of_a_cosigned_checkpoint_loses_a_signature():
    log = notes.generate_signer("vigil.example.org/log")
    witness = notes.generate_signer("witness.example.org/w1", COSIGNATURE_V1)
    body = Checkpoint("vigil.example.org/log", 7, ROOT).body()
    cosignature = cosign(body, witness, timestamp=1_700_000_000)
    signed = (sign_checkpoint(parse_checkpoint(body), log) + cosignature.line()).encode()

    def both_verify(message: bytes) -> bool:
        try:
            verified, _ = open_note(message, [log.verifier, witness.verifier])
        except NoteError:
            return False
        return len(verified.signatures) == 2

    assert both_verify(signed)
    assert verify_cosignature(body, cosignature, witness.verifier)
    assert cosignature_timestamp(cosignature) == 1_700_000_000
    for changed in _flips(signed):
        assert not both_verify(changed)


def test_cosignature_signs_the_specs_message():
    witness = notes.generate_signer("w", COSIGNATURE_V1)
    body = Checkpoint("o", 1, ROOT).body()
    cosignature = cosign(body, witness, timestamp=1679315147)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    Ed25519PublicKey.from_public_bytes(witness.verifier.public_key).verify(
        cosignature.signature[8:], b"cosignature/v1\ntime 1679315147\n" + body.encode())
    assert cosignature.signature[:8] == (1679315147).to_bytes(8, "big")
    assert cosignature.key_id == notes.key_id("w", COSIGNATURE_V1, witness.verifier.public_key)


def test_a_cosignature_is_not_a_log_signature_and_the_reverse():
    key = notes.generate_signer("same-name")
    body = Checkpoint("o", 1, ROOT).body()
    cosignature = cosign(body, key, timestamp=5)
    assert verify_cosignature(body, cosignature, key.verifier)  # from the plain key, as formats reads one
    with pytest.raises(UnverifiedNote):  # the 0x01 key does not take the 0x04 line as its own
        open_note(body + "\n" + cosignature.line(), [key.verifier])
    assert not verify_cosignature(body, sign_note(body, key).signatures[0], key.verifier)
    assert not verify_cosignature(Checkpoint("o", 2, ROOT).body(), cosignature, key.verifier)


def test_a_witness_key_file_round_trips_with_its_type():
    witness = notes.generate_signer("witness.example.org/w1", COSIGNATURE_V1)
    again = parse_signer_key(str(witness))
    assert again.verifier == witness.verifier and again.key_type == COSIGNATURE_V1
    assert parse_verifier_key(str(witness.verifier)) == witness.verifier
    assert str(witness.verifier).startswith("witness.example.org/w1+")


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there"])
def test_invalid_key_names_are_refused(name):
    with pytest.raises(NoteError):
        notes.generate_signer(name)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab+= \n—\x00/0123456789AQ"), max_size=120) | st.text(max_size=120))
def test_any_text_is_a_note_error_or_parses(text):
    """Never another exception (a witness turns NoteError into a 4xx; anything else would be a 500)."""
    peter = parse_verifier_key(PETER_VKEY)
    for attempt in (lambda: open_note(text, [peter]), lambda: parse_checkpoint(text),
                    lambda: parse_verifier_key(text), lambda: parse_signer_key(text)):
        try:
            attempt()
        except NoteError:
            pass
