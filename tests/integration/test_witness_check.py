"""`vigil witness check` (pull mode) against a real local HTTP server serving a log's checkpoint and proofs."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from evidence import notes
from service.cli import app

from .helpers.tlog import FakeLog, LogServer, free_port

ORIGIN = "vigil.example.org/log"
runner = CliRunner()


@pytest.fixture
def log():
    return FakeLog(ORIGIN, notes.generate_signer(ORIGIN), leaves=10)


@pytest.fixture
def server(log):
    with LogServer(log) as running:
        yield running


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state.json"


def check(state, log, url, *extra):
    return runner.invoke(app, ["witness", "check", "--state", str(state), "--log-key", str(log.signer.verifier),
                               "--log", url, *extra])


def held(state) -> dict:
    return json.loads(state.read_text())


def test_first_check_and_growth_are_remembered(state, log, server):
    first = check(state, log, server.url)
    assert first.exit_code == 0, first.output
    assert f"{ORIGIN}: size 0 -> 10 is consistent" in first.output
    assert held(state)["logs"][ORIGIN]["size"] == 10
    log.append(7)
    grown = check(state, log, server.url)
    assert grown.exit_code == 0, grown.output
    assert held(state)["logs"][ORIGIN]["checkpoint"] == log.checkpoint(17)
    unchanged = check(state, log, server.url)
    assert unchanged.exit_code == 0 and "size 17 -> 17" in unchanged.output


def test_a_rewritten_history_exits_1_says_why_and_is_kept(state, log, server):
    assert check(state, log, server.url).exit_code == 0
    kept = log.checkpoint(10)
    log.rewrite(3, b"rewritten by an insider")
    log.append(5)
    result = check(state, log, server.url)
    assert result.exit_code == 1
    assert "failed the check (422)" in result.output and "does not verify" in result.output
    saved = held(state)
    assert saved["logs"][ORIGIN]["checkpoint"] == kept
    (conflict,) = saved["conflicts"]
    assert conflict["received"]["checkpoint"] == log.checkpoint(15)


def test_the_same_size_with_another_root_exits_1(state, log, server):
    assert check(state, log, server.url).exit_code == 0
    log.rewrite(9, b"last event changed")
    result = check(state, log, server.url)
    assert result.exit_code == 1 and "two different trees of size 10" in result.output
    assert len(held(state)["conflicts"]) == 1


def test_a_log_that_went_back_exits_1(state, log, server):
    assert check(state, log, server.url).exit_code == 0
    server.checkpoint_text = log.checkpoint(6)
    result = check(state, log, server.url)
    assert result.exit_code == 1 and "smaller than size 10" in result.output
    assert held(state)["logs"][ORIGIN]["size"] == 10 and len(held(state)["conflicts"]) == 1


def test_a_checkpoint_not_signed_by_the_log_key_exits_1(state, log, server):
    server.checkpoint_text = log.checkpoint(10, signer=notes.generate_signer(ORIGIN))
    result = check(state, log, server.url)
    assert result.exit_code == 1 and "does not verify with its key" in result.output
    assert not state.exists() or not held(state)["logs"]


@pytest.mark.parametrize("answer", [b"not json", b'{"old": 10, "new": 99, "hashes": []}',
                                    b'{"old": 10, "new": 12, "hashes": ["!!"]}', b"[]"])
def test_a_malformed_proof_exits_1(state, log, server, answer):
    assert check(state, log, server.url).exit_code == 0
    log.append(2)
    server.proof_answer = answer
    result = check(state, log, server.url)
    assert result.exit_code == 1, result.output
    assert held(state)["logs"][ORIGIN]["size"] == 10


def test_a_log_that_cannot_be_asked_exits_2_and_changes_nothing(state, log, server):
    server.status = 503
    result = check(state, log, server.url)
    assert result.exit_code == 2 and "answered 503" in result.output and "nothing was checked" in result.output
    down = check(state, log, f"http://127.0.0.1:{free_port()}")
    assert down.exit_code == 2 and "cannot reach the log" in down.output
    assert not state.exists() or not held(state)["logs"]


def test_the_api_key_is_sent_as_a_bearer_token(state, log, server):
    assert check(state, log, server.url, "--api-key", "k-123").exit_code == 0
    assert server.authorizations == ["Bearer k-123"]


def test_a_witness_key_is_not_taken_as_the_log_key(state, server):
    witness = notes.generate_signer("w", notes.COSIGNATURE_V1)
    result = runner.invoke(app, ["witness", "check", "--state", str(state), "--log-key", str(witness.verifier),
                                 "--log", server.url])
    assert result.exit_code == 2 and "not a witness's" in result.output
