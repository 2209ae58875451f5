"""The witness (c2sp.org/tlog-witness): every answer of add-checkpoint, its state kept across restarts and crashes,
a rewritten history refused and kept as evidence, over the ASGI app and over real sockets."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from evidence import notes
from evidence.notes import COSIGNATURE_V1, open_note, parse_note, verify_cosignature
from evidence.witness import Witness, parse_add_request
from evidence.witness_http import SIZE_TYPE, create_witness_app
from evidence.witness_state import StateError, StateFile

from .helpers.tlog import FakeLog, add_body, serve_app

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ORIGIN = "vigil.example.org/log"


@pytest.fixture
def log():
    return FakeLog(ORIGIN, notes.generate_signer(ORIGIN), leaves=10)


@pytest.fixture
def witness_key():
    return notes.generate_signer("witness.partner.example/w1", COSIGNATURE_V1)


@pytest.fixture
def state(tmp_path):
    return StateFile(tmp_path / "witness-state.json")


@pytest.fixture
def client(log, witness_key, state):
    app = create_witness_app(Witness(state, [log.signer.verifier]), witness_key, clock=lambda: NOW)
    with TestClient(app, raise_server_exceptions=False) as running:
        yield running


def post(client, body: bytes):
    return client.post("/add-checkpoint", content=body)


def held(state: StateFile) -> dict:
    return state.load()["logs"].get(ORIGIN)


def assert_cosigned(answer, note: str, witness_key, log) -> None:
    assert answer.status_code == 200, answer.text
    assert answer.text.startswith("— witness.partner.example/w1 ") and answer.text.endswith("\n")
    (cosignature,) = parse_note("x\n\n" + answer.text).signatures
    body = parse_note(note).text
    assert verify_cosignature(body, cosignature, witness_key.verifier)
    assert notes.cosignature_timestamp(cosignature) == int(NOW.timestamp())
    # As the spec says a log reads it: the answer appended to the checkpoint, opened with the keys it trusts.
    verified, _ = open_note(note + answer.text, [log.signer.verifier, witness_key.verifier])
    assert len(verified.signatures) == 2


def test_first_checkpoint_is_cosigned_and_remembered(client, log, witness_key, state):
    note = log.checkpoint(10)
    answer = post(client, add_body(0, [], note))
    assert_cosigned(answer, note, witness_key, log)
    assert held(state)["size"] == 10 and held(state)["checkpoint"] == note
    assert held(state)["root_hash"] == notes.b64encode(log.root(10))


def test_growth_with_a_valid_proof_is_cosigned(client, log, witness_key, state):
    assert post(client, add_body(0, [], log.checkpoint(10))).status_code == 200
    log.append(27)
    note = log.checkpoint(37)
    assert_cosigned(post(client, add_body(10, log.proof(10, 37), note)), note, witness_key, log)
    assert held(state)["size"] == 37
    # The same checkpoint again: old equals its size, an empty proof, cosigned again.
    assert_cosigned(post(client, add_body(37, [], note)), note, witness_key, log)


def test_a_stale_old_size_gets_409_with_the_size_held(client, log, state):
    assert post(client, add_body(0, [], log.checkpoint(10))).status_code == 200
    log.append(5)
    for old in (0, 3, 12):
        answer = post(client, add_body(old, log.proof(old, 15), log.checkpoint(15)))
        assert answer.status_code == 409
        assert answer.text == "10\n"
        assert answer.headers["content-type"].split(";")[0] == SIZE_TYPE
    assert held(state)["size"] == 10 and not state.load()["conflicts"]


def test_a_bad_proof_gets_422_and_nothing_is_remembered(client, log, state):
    assert post(client, add_body(0, [], log.checkpoint(10))).status_code == 200
    log.append(6)
    proof = log.proof(10, 16)
    for i in range(len(proof)):
        altered = proof[:i] + [bytes([proof[i][0] ^ 1]) + proof[i][1:]] + proof[i + 1:]
        assert post(client, add_body(10, altered, log.checkpoint(16))).status_code == 422
    assert post(client, add_body(10, proof[:-1], log.checkpoint(16))).status_code == 422
    assert post(client, add_body(10, proof + [proof[0]], log.checkpoint(16))).status_code == 422
    assert held(state)["size"] == 10
    assert post(client, add_body(10, proof, log.checkpoint(16))).status_code == 200


def test_a_first_checkpoint_with_a_proof_is_refused(client, log):
    assert post(client, add_body(0, [log.root(3)], log.checkpoint(10))).status_code == 422


def test_a_bad_signature_gets_403(client, log, state):
    note = log.checkpoint(10)
    impostor = notes.generate_signer(ORIGIN)  # the same name, another key: its signature is ignored
    assert post(client, add_body(0, [], log.checkpoint(10, signer=impostor))).status_code == 403
    text, _, line = note.rpartition("\n\n")
    forged = text + "\n\n" + line[:-10] + ("A" if line[-10] != "A" else "B") + line[-9:]
    assert post(client, add_body(0, [], forged)).status_code == 403
    changed_root = note.replace(notes.b64encode(log.root(10)), notes.b64encode(log.root(9)))
    answer = post(client, add_body(0, [], changed_root))
    assert answer.status_code == 403 and "does not verify" in answer.text
    assert held(state) is None


def test_an_unknown_origin_gets_404(client):
    other = FakeLog("other.example/log", notes.generate_signer("other.example/log"), leaves=3)
    assert post(client, add_body(0, [], other.checkpoint(3))).status_code == 404


def test_an_old_size_above_the_checkpoints_gets_400(client, log):
    assert post(client, add_body(11, [], log.checkpoint(10))).status_code == 400


@pytest.mark.parametrize("body", [
    b"",
    b"garbage",
    b"old 0\n",
    b"old 01\n\norigin\n",
    b"old -1\n\n",
    b"old 0 \n\n",
    b"new 0\n\n",
    b"old 0\nnot base64!\n\n",
    b"old 0\n" + notes.b64encode(b"x" * 31).encode() + b"\n\n",
    b"old 0\n\xff\xfe\n\n",
    b"old 0\n" + b"\n".join([notes.b64encode(bytes(32)).encode()] * 64) + b"\n\n",
    b"old 0\n\nnot a checkpoint\n",
    b"old 0\n\norigin\n1\n" + notes.b64encode(bytes(32)).encode() + b"\n",  # unsigned
])
def test_malformed_bodies_get_400(client, body):
    answer = post(client, body)
    assert answer.status_code == 400, (body, answer.status_code, answer.text)
    assert answer.text.strip()


def test_a_body_too_large_gets_413(client):
    assert post(client, b"old 0\n" + b"A" * 70_000).status_code == 413


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_no_body_gets_a_500(client, body):
    assert post(client, body).status_code in (400, 403, 404, 409, 413, 422)


def test_same_size_with_another_root_is_refused_and_kept_as_evidence(client, log, state, caplog):
    note = log.checkpoint(10)
    assert post(client, add_body(0, [], note)).status_code == 200
    log.rewrite(4, b"rewritten")  # the insider: one event changed, every hash after it recomputed, re-signed
    forged = log.checkpoint(10)
    with caplog.at_level("CRITICAL", logger="vigil.witness"):
        answer = post(client, add_body(10, [], forged))
    assert answer.status_code == 409 and answer.text == "10\n"
    assert "two different trees of size 10" in answer.headers["x-witness-reason"]
    assert "INCONSISTENT LOG" in caplog.text
    (conflict,) = state.load()["conflicts"]
    assert conflict["witnessed"]["checkpoint"] == note and conflict["received"]["checkpoint"] == forged
    assert held(state)["checkpoint"] == note
    post(client, add_body(10, [], forged))  # sent again: one record, not two
    assert len(state.load()["conflicts"]) == 1


def test_a_rewritten_history_that_grows_is_refused_and_kept_as_evidence(client, log, state):
    note = log.checkpoint(10)
    assert post(client, add_body(0, [], note)).status_code == 200
    log.rewrite(4, b"rewritten")
    log.append(6)
    forged, proof = log.checkpoint(16), log.proof(10, 16)  # a proof from the rewritten tree
    answer = post(client, add_body(10, proof, forged))
    assert answer.status_code == 422
    assert "does not verify" in answer.text and "rewrote" in answer.text
    (conflict,) = state.load()["conflicts"]
    assert conflict["witnessed"]["size"] == 10 and conflict["received"]["checkpoint"] == forged
    assert conflict["received"]["proof"] == [notes.b64encode(h) for h in proof]
    assert held(state)["checkpoint"] == note


def test_state_survives_a_restart(log, witness_key, state):
    first = create_witness_app(Witness(state, [log.signer.verifier]), witness_key, clock=lambda: NOW)
    with TestClient(first) as running:
        assert post(running, add_body(0, [], log.checkpoint(10))).status_code == 200
    log.append(3)
    again = create_witness_app(Witness(StateFile(state.path), [log.signer.verifier]), witness_key,
                               clock=lambda: NOW)
    with TestClient(again) as running:
        answer = post(running, add_body(0, [], log.checkpoint(13)))
        assert (answer.status_code, answer.text) == (409, "10\n")
        assert post(running, add_body(10, log.proof(10, 13), log.checkpoint(13))).status_code == 200
    assert held(state)["size"] == 13


def test_a_state_that_cannot_be_written_gives_503_and_no_cosignature(client, log, state, monkeypatch):
    def disk_full(self, _state):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(StateFile, "save", disk_full)
    answer = post(client, add_body(0, [], log.checkpoint(10)))
    assert answer.status_code == 503 and "—" not in answer.text
    assert not state.path.exists()


CRASH = textwrap.dedent("""
    import os, signal, sys
    from evidence.witness_state import StateFile
    point = sys.argv[2]
    real = getattr(os, point)
    def crash(*args):
        if point == "fsync":
            real(*args)  # the new bytes are on disk in the temporary file; then the power goes
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(os, point, crash)
    StateFile(sys.argv[1]).save({"version": 1, "logs": {"o": {"size": 99}}, "conflicts": ["x" * 5_000_000]})
""")


@pytest.mark.parametrize("point", ["fsync", "replace"])
def test_a_crash_while_writing_leaves_the_old_state_whole(tmp_path, point):
    state = StateFile(tmp_path / "state.json")
    before = {"version": 1, "logs": {"o": {"size": 7}}, "conflicts": []}
    state.save(before)
    done = subprocess.run([sys.executable, "-c", CRASH, str(state.path), point], cwd=Path(__file__).parents[2])
    assert done.returncode == -signal.SIGKILL
    assert state.load() == before


def test_an_unreadable_state_is_an_error_not_a_fresh_start(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"version": 1, "logs": {"o": {"si')
    with pytest.raises(StateError, match="not valid JSON"):
        StateFile(path).load()
    path.write_text('{"version": 7}')
    with pytest.raises(StateError, match="not a version 1"):
        StateFile(path).load()


class SlowStateFile(StateFile):
    """Reads, then dawdles: without the lock, every racing request would read the same old state."""

    def load(self):
        state = super().load()
        time.sleep(0.1)
        return state


def test_two_witnesses_on_one_state_file_check_and_write_in_turn(log, tmp_path):
    """As a `serve` and a `check` on the same file would: the file lock makes read-check-write one step."""
    path = tmp_path / "state.json"
    first = Witness(SlowStateFile(path), [log.signer.verifier])
    first.add(parse_add_request(add_body(0, [], log.checkpoint(4))), NOW)
    log.append(6)
    witnesses = [first, Witness(SlowStateFile(path), [log.signer.verifier])]
    outcomes: list[int] = []

    def add(witness, size):
        outcomes.append(witness.add(parse_add_request(add_body(4, log.proof(4, size), log.checkpoint(size))),
                                    NOW).status)

    threads = [threading.Thread(target=add, args=(witnesses[n % 2], 5 + n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [200, 409, 409, 409]


# ---- over real sockets ----

def test_concurrent_requests_cannot_roll_the_state_back(log, witness_key, state):
    """Many logs' worth of racing requests from the same old size: exactly one is cosigned."""
    app = create_witness_app(Witness(state, [log.signer.verifier]), witness_key, clock=lambda: NOW)
    with serve_app(app) as base:
        assert httpx.post(base + "/add-checkpoint", content=add_body(0, [], log.checkpoint(4))).status_code == 200
        log.append(20)
        bodies = [add_body(4, log.proof(4, n), log.checkpoint(n)) for n in range(5, 25)]
        answers: list[int] = []

        def send(body):
            answers.append(httpx.post(base + "/add-checkpoint", content=body, timeout=30).status_code)

        threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(answers) == [200] + [409] * (len(bodies) - 1)
    assert held(state)["size"] in range(5, 25)


def test_vigil_witness_keygen_and_serve_over_a_real_socket(tmp_path, log):
    vigil = str(Path(sys.executable).with_name("vigil"))
    key_file = tmp_path / "w.key"
    made = subprocess.run([vigil, "witness", "keygen", "--name", "witness.partner.example/w1", "--out",
                           str(key_file)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    verifier = notes.parse_verifier_key(made.stdout.strip())
    assert verifier.key_type == COSIGNATURE_V1
    assert notes.parse_signer_key(key_file.read_text()).verifier == verifier
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = subprocess.run([vigil, "witness", "keygen", "--name", "x", "--out", str(key_file)],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "never overwritten" in again.stderr

    from .helpers.tlog import free_port, wait_for_port
    port = free_port()
    state_file = tmp_path / "state.json"
    server = subprocess.Popen([vigil, "witness", "serve", "--key", str(key_file), "--state", str(state_file),
                               "--log-key", str(log.signer.verifier), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "serve.log").open("w"))
    try:
        wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        note = log.checkpoint(10)
        answer = httpx.post(base + "/add-checkpoint", content=add_body(0, [], note))
        assert answer.status_code == 200
        verified, _ = open_note(note + answer.text, [log.signer.verifier, verifier])
        assert len(verified.signatures) == 2
        log.rewrite(2, b"changed")
        refused = httpx.post(base + "/add-checkpoint", content=add_body(10, [], log.checkpoint(10)))
        assert refused.status_code == 409
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert "INCONSISTENT LOG" in (tmp_path / "serve.log").read_text()
    saved = json.loads(state_file.read_text())
    assert saved["logs"][ORIGIN]["size"] == 10 and len(saved["conflicts"]) == 1


def test_serve_refuses_a_bad_key_or_log_key(tmp_path, log):
    vigil = str(Path(sys.executable).with_name("vigil"))
    (tmp_path / "bad.key").write_text("PRIVATE+KEY+nope\n")
    bad = subprocess.run([vigil, "witness", "serve", "--key", str(tmp_path / "bad.key"), "--state",
                          str(tmp_path / "s.json"), "--log-key", str(log.signer.verifier)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "not a witness key" in bad.stderr
    (tmp_path / "good.key").write_text(str(notes.generate_signer("w", COSIGNATURE_V1)) + "\n")
    bad = subprocess.run([vigil, "witness", "serve", "--key", str(tmp_path / "good.key"), "--state",
                          str(tmp_path / "s.json"), "--log-key", "vigil+12345678+AAAA"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--log-key" in bad.stderr
    assert not os.path.exists(tmp_path / "s.json")
