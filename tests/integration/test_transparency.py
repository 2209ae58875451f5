"""The log's signing side end to end: checkpoints its published key verifies, witnesses that cosign them over real
sockets, the dossier bundle checked by its own verify.py, and the insider who rewrites history with the stolen log
key: the log, the witness, `vigil log audit` and an earlier bundle each catch them."""
from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from events import merkle
from events.hashchain import GENESIS, chain_hash
from events.log_tree import node_key, recomputed_root
from events.tables import events as events_table, log_nodes
from evidence import notes
from evidence.checkpoints import LogRewritten
from evidence.notes import COSIGNATURE_V1
from evidence.tables import checkpoints, cosignatures, log_keys
from evidence.witness import Witness
from evidence.witness_client import WitnessConfig
from evidence.witness_http import create_witness_app
from evidence.witness_state import StateFile
from service.cli import app as cli
from service.container import build_container

from .helpers.cases import append, open_case
from .helpers.tlog import serve_app
from .helpers.insider import drop_guards

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
runner = CliRunner()


def _grow(client, cases: list[str], notes_each: int = 2) -> None:
    for case_id in cases:
        for k in range(notes_each):
            assert append(client, case_id, "NoteAdded", {"text": f"note {k}"}).status_code == 201


def _published_key(client) -> notes.VerifierKey:
    answer = client.get("/v1/log/key", headers={"Authorization": ""})  # public: no credential needed
    assert answer.status_code == 200, answer.text
    return notes.parse_verifier_key(answer.text.strip())


def _leaves(client) -> list[bytes]:
    size = client.get("/v1/log/size").json()["size"]
    return [merkle.leaf_hash(base64.b64decode(client.get(f"/v1/log/leaves/{i}").json()["data"]))
            for i in range(size)]


@pytest.fixture
def witness_key():
    return notes.generate_signer("witness.partner.example/w1", COSIGNATURE_V1)


@pytest.fixture
def witness(box, witness_key, tmp_path):
    """A partner's witness on a real socket, configured for this log as VIGIL_WITNESSES would."""
    state = StateFile(tmp_path / "witness-state.json")
    app = create_witness_app(Witness(state, [box.log_signing.key.verifier()]), witness_key,
                             clock=box.clock.now)
    with serve_app(app) as base:
        box.log_signing.witnessing.witnesses = [WitnessConfig(base, notes.as_cosigner(witness_key.verifier))]
        yield state


def test_a_grown_log_is_signed_and_its_published_key_verifies_every_checkpoint(client, box, clock):
    assert client.get("/v1/log/checkpoint").status_code == 404  # nothing signed yet, and it says so
    cases = [open_case(client), open_case(client)]
    _grow(client, cases)
    first = box.log_signing.run()
    assert first is not None
    key = _published_key(client)
    checkpoint, _ = notes.open_checkpoint(client.get("/v1/log/checkpoint").text, [key])
    leaves = _leaves(client)
    assert checkpoint.size == len(leaves) == 6 and checkpoint.root_hash == merkle.root_of(leaves)
    assert box.log_signing.run() is None  # not grown: nothing new to sign
    _grow(client, cases[:1])
    assert box.log_signing.run() is None  # grown, but the last checkpoint is younger than the interval
    clock.advance(timedelta(seconds=box.settings.checkpoint_seconds))
    second = box.log_signing.run()
    assert second is not None and second.checkpoint.size == 8
    proof = client.get("/v1/log/proof/consistency?old=6&new=8").json()["hashes"]
    assert merkle.verify_consistency(6, 8, first.checkpoint.root_hash, second.checkpoint.root_hash,
                                     [base64.b64decode(h) for h in proof])
    with box.engine.connect() as conn:
        kept = conn.execute(select(checkpoints.c.tree_size).order_by(checkpoints.c.tree_size)).scalars().all()
        sealed = conn.execute(select(log_keys.c.sealed_signer)).scalar_one()
    assert kept == [6, 8]  # every checkpoint signed is kept
    assert "PRIVATE" not in sealed and "KEY" not in sealed  # the signing key only sealed under the master key


def test_another_process_signs_with_the_same_key(client, box, settings, clock, engine):
    open_case(client)
    box.log_signing.run()
    other = build_container(settings, clock=clock, engine=engine)
    assert str(other.log_signing.key.verifier()) == str(box.log_signing.key.verifier())


def test_witnesses_cosign_each_checkpoint_and_it_is_served_with_their_cosignatures(client, box, clock, witness,
                                                                                  witness_key):
    cases = [open_case(client)]
    box.log_signing.run()
    _grow(client, cases, 3)
    clock.advance(timedelta(minutes=5))
    box.log_signing.run()  # the witness checks the consistency proof from the size it cosigned before
    served = client.get("/v1/log/checkpoint").text
    checkpoint, whole = notes.open_checkpoint(served, [_published_key(client)])
    cosigned = [s for s in whole.signatures
                if notes.verify_cosignature(checkpoint.body(), s, notes.as_cosigner(witness_key.verifier))]
    assert checkpoint.size == 4 and len(cosigned) == 1
    with box.engine.connect() as conn:
        assert conn.execute(select(cosignatures.c.tree_size).order_by(cosignatures.c.tree_size)).scalars().all() \
            == [1, 4]


def _run_verify(folder, bundle: bytes, *args: str) -> subprocess.CompletedProcess:
    (folder / "bundle.zip").write_bytes(bundle)
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        (folder / "verify.py").write_bytes(z.read("verify.py"))
    return subprocess.run([PYTHON, "-I", "-S", "verify.py", "bundle.zip", *args], cwd=folder, capture_output=True,
                          text=True, timeout=60)


def test_the_bundle_verifies_alone_before_and_after_the_person_is_erased(client, box, tmp_path, witness,
                                                                         witness_key):
    case_id = open_case(client)
    _grow(client, [case_id, open_case(client)])
    before = client.get(f"/v1/cases/{case_id}/export?format=bundle")
    assert before.status_code == 200 and before.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(before.content)) as z:
        assert "Test Person Alpha" in z.read("dossier.html").decode() and z.read("dossier.pdf").startswith(b"%PDF")
    cosigner = str(notes.as_cosigner(witness_key.verifier))
    checked = _run_verify(tmp_path, before.content, "--witness-key", cosigner)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "RESULT: VERIFIED" in checked.stdout and "3 events" in checked.stdout
    assert client.post(f"/v1/cases/{case_id}/erase", json={"reason": "asked"}).status_code in (200, 201)
    again = _run_verify(tmp_path, before.content, "--witness-key", cosigner)
    assert again.returncode == 0, again.stdout  # what was proven stays proven: erasure changes no leaf
    after = client.get(f"/v1/cases/{case_id}/export?format=bundle").content
    checked_after = _run_verify(tmp_path, after)
    assert checked_after.returncode == 0, checked_after.stdout + checked_after.stderr
    with zipfile.ZipFile(io.BytesIO(after)) as z:
        html = z.read("dossier.html").decode()
        assert json.loads(z.read("manifest.json"))["erased"] is True
    assert "Erased person" in html and "Test Person Alpha" not in html



def _rewrite_history(engine, case_id: str, version: int) -> None:
    """What an insider with the database does: change one event, recompute its case's chain after it, and
    rebuild every stored tree hash from the events so that every local check agrees with the forgery."""
    with engine.begin() as conn:
        drop_guards(conn, engine.dialect.name == "postgresql")
        e = events_table.c
        conn.execute(update(events_table).where(e.stream_id == case_id, e.version == version)
                     .values(data=json.dumps({"text": "the hearing was cancelled"})))
        from events.store import row_to_event
        prev = GENESIS
        for row in conn.execute(select(events_table).where(e.stream_id == case_id).order_by(e.version)).all():
            event = row_to_event(row)
            digest = chain_hash(prev, event.canonical())
            conn.execute(update(events_table).where(e.position == row.position).values(prev_hash=prev, hash=digest))
            prev = digest
        leaves = [merkle.leaf_hash(row_to_event(r).canonical())
                  for r in conn.execute(select(events_table).order_by(e.log_index)).all()]
        stored: dict = {}
        for index, leaf in enumerate(leaves):
            for level, position in merkle.completed_pieces(index):
                stored[(level, position)] = leaf if level == 0 else merkle.node_hash(
                    stored[(level - 1, 2 * position)], stored[(level - 1, 2 * position + 1)])
        conn.execute(delete(log_nodes))
        keyed = conn.dialect.name == "sqlite"  # SQLite's key, node_key (0026); PostgreSQL leaves it NULL
        conn.execute(insert(log_nodes), [{"tree_size": (ix + 1) << lv, "level": lv, "idx": ix, "hash": h,
                                          "node_key": node_key((ix + 1) << lv, lv) if keyed else None}
                                         for (lv, ix), h in stored.items()])


def test_an_insider_who_rewrites_history_and_re_signs_with_the_stolen_key_is_caught(
        client, box, settings, clock, engine, witness, tmp_path, monkeypatch):
    target = open_case(client)
    _grow(client, [target, open_case(client)])
    box.log_signing.run()
    kept_checkpoint = client.get("/v1/log/checkpoint").text  # e.g. printed in an email or a dossier
    (tmp_path / "kept.txt").write_text(kept_checkpoint)
    (tmp_path / "before.zip").write_bytes(client.get(f"/v1/cases/{target}/export?format=bundle").content)
    monkeypatch.setenv("VIGIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY", settings.master_key)
    assert runner.invoke(cli, ["log", "audit", "--checkpoint", str(tmp_path / "kept.txt")]).exit_code == 0

    _rewrite_history(engine, target, version=2)
    insider = build_container(settings, clock=clock, engine=engine)  # a restarted service on the forged data
    assert insider.store.verify(target).ok and insider.transparency.check().ok  # every local check is fooled
    with engine.connect() as conn:
        assert recomputed_root(conn, 6) != notes.open_checkpoint(kept_checkpoint, [_published_key(client)])[0] \
            .root_hash
    assert append(client, target, "NoteAdded", {"text": "later"}).status_code == 201
    clock.advance(timedelta(minutes=5))
    with pytest.raises(LogRewritten):
        insider.log_signing.run()  # the log itself will not sign over a tree that does not extend its last

    # So the insider erases the log's memory of what it signed and signs anew with the stolen key.
    with engine.begin() as conn:
        conn.execute(delete(checkpoints))
        conn.execute(delete(cosignatures))
    insider.log_signing.witnessing.witnesses = box.log_signing.witnessing.witnesses
    forged = insider.log_signing.run()
    assert forged is not None and forged.checkpoint.size == 7
    outcome = insider.log_signing.witnessing.offer(forged.note)
    assert list(outcome.values())[0].startswith("conflict"), outcome  # the witness refuses and says why
    assert witness.load()["conflicts"], "the witness keeps the contradicting checkpoint as evidence"

    audited = runner.invoke(cli, ["log", "audit", "--checkpoint", str(tmp_path / "kept.txt")])
    assert audited.exit_code == 1 and "no longer hash to the checkpoint's root" in audited.output
    bundle_check = runner.invoke(cli, ["log", "audit", "--checkpoint", str(tmp_path / "before.zip")])
    assert bundle_check.exit_code == 1
    assert "of the bundle is not what the log now holds" in bundle_check.output
