"""The log's side of tlog-witness against a real witness on a real socket: cosignatures that verify, a 409
resent from the witness's size, a rewritten history reported as a conflict, and answers that are not cosignatures."""
from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from evidence import notes
from evidence.notes import COSIGNATURE_V1, NoteError, open_note
from evidence.witness import Witness
from evidence.witness_client import (WitnessConfig, WitnessFailed, add_checkpoint_body, parse_witnesses,
                                     request_cosignature)
from evidence.witness_http import create_witness_app
from evidence.witness_state import StateFile

from .helpers.tlog import FakeLog, add_body, free_port, serve_app

ORIGIN = "vigil.example.org/log"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def log():
    return FakeLog(ORIGIN, notes.generate_signer(ORIGIN), leaves=10)


@pytest.fixture
def witness_key():
    return notes.generate_signer("witness.partner.example/w1", COSIGNATURE_V1)


@pytest.fixture
def witness(log, witness_key, tmp_path):
    app = create_witness_app(Witness(StateFile(tmp_path / "state.json"), [log.signer.verifier]), witness_key,
                             clock=lambda: NOW)
    with serve_app(app) as base, httpx.Client(timeout=30) as client:
        yield client, WitnessConfig(base, witness_key.verifier)


def test_the_body_is_the_specs():
    proof = [bytes(32), bytes([1]) * 32]
    assert add_checkpoint_body(5, proof, "note\n") == add_body(5, proof, "note\n")
    assert add_checkpoint_body(0, [], "cp\n") == b"old 0\n\ncp\n"


def test_cosignatures_are_returned_verified(witness, log, witness_key):
    client, config = witness
    note = log.checkpoint()
    cosignature = request_cosignature(client, config, note, 0, log.proof_to(10))
    verified, _ = open_note(note + cosignature.line(), [log.signer.verifier, witness_key.verifier])
    assert len(verified.signatures) == 2
    log.append(9)
    assert request_cosignature(client, config, log.checkpoint(), 10, log.proof_to(19)).name == config.key.name


def test_a_409_is_resent_from_the_witnesses_size(witness, log):
    client, config = witness
    request_cosignature(client, config, log.checkpoint(), 0, log.proof_to(10))
    log.append(4)
    sent_from: list[int] = []

    def proof_from(old):
        sent_from.append(old)
        return log.proof(old, 14)

    request_cosignature(client, config, log.checkpoint(), 0, proof_from)  # the log forgot; the witness has 10
    assert sent_from == [10]


def test_a_rewritten_history_is_reported_as_a_conflict(witness, log):
    client, config = witness
    request_cosignature(client, config, log.checkpoint(), 0, log.proof_to(10))
    log.rewrite(4, b"insider")
    with pytest.raises(WitnessFailed) as same_size:
        request_cosignature(client, config, log.checkpoint(), 10, log.proof_to(10))
    assert same_size.value.status == 409 and same_size.value.conflict
    assert "two different trees of size 10" in same_size.value.reason
    log.append(3)
    with pytest.raises(WitnessFailed) as grown:
        request_cosignature(client, config, log.checkpoint(), 10, log.proof_to(13))
    assert grown.value.status == 422 and grown.value.conflict and "does not verify" in grown.value.reason


def test_a_witness_holding_a_larger_tree_is_a_conflict(witness, log):
    client, config = witness
    request_cosignature(client, config, log.checkpoint(), 0, log.proof_to(10))
    shrunk = FakeLog(ORIGIN, log.signer, leaves=6)  # the log restored from an old backup
    with pytest.raises(WitnessFailed) as failed:
        request_cosignature(client, config, shrunk.checkpoint(), 0, shrunk.proof_to(6))
    assert failed.value.status == 409 and failed.value.conflict


def test_an_unreachable_witness_and_a_foreign_answer_fail(log, witness_key):
    with httpx.Client(timeout=5) as client:
        down = WitnessConfig(f"http://127.0.0.1:{free_port()}", witness_key.verifier)
        with pytest.raises(WitnessFailed) as failed:
            request_cosignature(client, down, log.checkpoint(), 0, log.proof_to(10))
        assert failed.value.status == 0 and not failed.value.conflict

        impostor = notes.generate_signer(witness_key.name, COSIGNATURE_V1)
        fake = FastAPI()

        @fake.post("/add-checkpoint")
        async def answer(request: Request):
            body = (await request.body()).decode().split("\n\n", 1)[1]
            return PlainTextResponse(notes.cosign(notes.parse_note(body).text, impostor, 1).line())

        with serve_app(fake) as base:
            with pytest.raises(WitnessFailed, match="does not verify"):
                request_cosignature(client, WitnessConfig(base, witness_key.verifier), log.checkpoint(), 0,
                                    log.proof_to(10))


def test_vigil_witnesses_is_read_into_urls_and_cosigner_keys():
    first = notes.generate_signer("w1.example", COSIGNATURE_V1).verifier
    plain = notes.generate_signer("w2.example").verifier  # a plain Ed25519 key is taken as its cosigner
    parsed = parse_witnesses(f"https://w1.example/witness/={first}, http://w2.example:8080/?a=b={plain}")
    assert [w.url for w in parsed] == ["https://w1.example/witness", "http://w2.example:8080/?a=b"]
    assert parsed[0].key == first and parsed[1].key == notes.as_cosigner(plain)
    assert parse_witnesses("") == []
    for bad in ("https://w.example", f"w.example={first}", "https://w.example=name+00000000+AAAA"):
        with pytest.raises(NoteError):
            parse_witnesses(bad)
