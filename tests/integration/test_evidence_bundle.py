"""The evidence bundle checked the way a lawyer checks it: its own verify.py, run alone (`python3 -I -S`, so it
cannot import this repository or any installed package), on real bundles; and every kind of tampering fails,
naming what."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings, strategies as st

from events.catalogue import PersonalDataErased
from evidence import verify_bundle
from evidence.bundle import BundleError, BundleEvent, build_bundle
from evidence.verify_bundle import Failure, VerifierKey, check_bundle, dump_manifest

from ..unit.evidence_bundles import (
    DOSSIER_HTML, DOSSIER_PDF, EXPORTED_AT, ORIGIN, Exported, Tree, b64, log_signature, make_bundle, raw_public,
    verifier_key,
)

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


# ---- helpers: open a bundle, change it, close it again, run its verify.py ----

def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def rezip(files: dict[str, bytes], extra: list[tuple[str, bytes]] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name, which one test wants
        for name, data in [*files.items(), *extra]:
            z.writestr(name, data)
    return out.getvalue()


def relist(files: dict[str, bytes], name: str) -> None:
    """Update the manifest's SHA-256 of `name`, as anyone editing a bundle on purpose would."""
    manifest = json.loads(files["manifest.json"])
    manifest["files"][name] = hashlib.sha256(files[name]).hexdigest()
    files["manifest.json"] = dump_manifest(manifest).encode()


def run_verify(folder: Path, bundle: bytes, *args: str) -> subprocess.CompletedProcess:
    (folder / "bundle.zip").write_bytes(bundle)
    (folder / "verify.py").write_bytes(verify_bundle_source())  # the file every bundle ships (asserted below)
    return subprocess.run([PYTHON, "-I", "-S", "verify.py", "bundle.zip", *args], cwd=folder,
                          capture_output=True, text=True, timeout=60)


def verify_bundle_source() -> bytes:
    return Path(verify_bundle.__file__).read_bytes()


def witness_args(exported: Exported) -> list[str]:
    return [arg for key in exported.witness_keys for arg in ("--witness-key", key)]


def grouped_sha256(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, 64, 4))


@pytest.fixture(scope="module")
def exported() -> Exported:
    return make_bundle(events=6, others_between=3, witnesses=2)


# ---- a genuine bundle ----

def test_a_bundle_verifies_alone_and_tells_a_reader_what_it_proves_and_what_not(tmp_path, exported):
    result = run_verify(tmp_path, exported.zip_bytes, *witness_args(exported))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "RESULT: VERIFIED" in out and "FAILED" not in out
    assert "all 7 files match" in out
    assert "6 events form one unbroken hash chain, versions 1 to 6" in out
    assert f"6 inclusion proofs lead to the checkpoint's root (tree size {exported.tree_size})" in out
    assert f"tree size:  {exported.tree_size}" in out
    assert exported.log_key in out
    public = base64.b64decode(exported.log_key.split("+", 2)[2])[1:]
    assert f"fingerprint: {grouped_sha256(public)}" in out
    assert "witness0.example.net/w, on 2026-05-02 05:33:20 UTC" in out
    assert "witness1.example.net/w, on 2026-05-02 05:33:21 UTC" in out
    assert "That what the events say is true" in out and "That nothing was withheld" in out
    assert "erased" not in out
    assert unzip(exported.zip_bytes)["verify.py"] == verify_bundle_source()
    assert hashlib.sha256(verify_bundle_source()).hexdigest() in out


def test_an_unpacked_bundle_directory_verifies_too(tmp_path, exported):
    folder = tmp_path / "unpacked"
    folder.mkdir()
    for name, data in unzip(exported.zip_bytes).items():
        (folder / name).write_bytes(data)
    (folder / ".DS_Store").write_bytes(b"left by a file browser")
    result = subprocess.run([PYTHON, "-I", "-S", str(folder / "verify.py"), str(folder),
                             *witness_args(exported)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    assert "RESULT: VERIFIED" in result.stdout


def test_without_witness_keys_it_verifies_and_lists_the_cosignatures_it_did_not_check(tmp_path, exported):
    result = run_verify(tmp_path, exported.zip_bytes)
    assert result.returncode == 0, result.stdout
    assert "Witnesses: none checked" in result.stdout
    assert "not checked (no key given): witness0.example.net/w, witness1.example.net/w" in result.stdout


def test_a_bundle_exported_after_an_erasure_verifies_and_shows_the_person_erased(tmp_path):
    erased = make_bundle(events=4, erased=True, witnesses=1)
    result = run_verify(tmp_path, erased.zip_bytes, *witness_args(erased))
    assert result.returncode == 0, result.stdout
    assert "The person's personal data was erased (event version 4" in result.stdout
    assert json.loads(unzip(erased.zip_bytes)["manifest.json"])["erased"] is True


def test_the_erasure_type_verify_py_looks_for_is_the_catalogue_s():
    assert verify_bundle.ERASURE_TYPE == PersonalDataErased.__name__


def test_the_same_inputs_make_the_same_bundle_bytes():
    assert make_bundle(seed=5).zip_bytes == make_bundle(seed=5).zip_bytes
    names = list(unzip(make_bundle(seed=5).zip_bytes))
    assert names == ["dossier.pdf", "dossier.html", "events.jsonl", "checkpoint.txt", "proofs.json",
                     "log-key.txt", "verify.py", "manifest.json"]


def test_the_bundle_holds_exactly_what_the_caller_gave(exported):
    files = unzip(exported.zip_bytes)
    assert files["dossier.html"] == DOSSIER_HTML and files["dossier.pdf"] == DOSSIER_PDF
    assert files["log-key.txt"] == (exported.log_key + "\n").encode()
    lines = [json.loads(line) for line in files["events.jsonl"].decode().splitlines()]
    assert [line["log_index"] for line in lines] == [e.log_index for e in exported.events]
    assert [base64.b64decode(line["canonical"]) for line in lines] == [e.canonical for e in exported.events]
    manifest = json.loads(files["manifest.json"])
    assert manifest["exported_at"] == "2026-05-02T08:30:15.000000Z" and manifest["case_id"] == exported.case_id


# ---- build_bundle refuses inputs whose bundle would not verify ----

def _rebuild(exported: Exported, **change) -> bytes:
    files = unzip(exported.zip_bytes)
    proofs = json.loads(files["proofs.json"])
    inputs = dict(case_id=exported.case_id, events=exported.events,
                  inclusion={p["log_index"]: [base64.b64decode(h) for h in p["hashes"]] for p in proofs["inclusion"]},
                  checkpoint=files["checkpoint.txt"].decode(), log_key=exported.log_key, dossier_html=DOSSIER_HTML,
                  dossier_pdf=DOSSIER_PDF, exported_at=EXPORTED_AT, erased=False)
    inputs.update(change)
    return build_bundle(**inputs)


def test_build_bundle_reproduces_the_bundle_from_its_parts(exported):
    assert _rebuild(exported) == exported.zip_bytes


@pytest.mark.parametrize("change, message", [
    (lambda e: {"events": e.events[1:]}, "version 1 is missing"),
    (lambda e: {"inclusion": {}}, "no inclusion proof for log index"),
    (lambda e: {"erased": True}, "record no erasure"),
    (lambda e: {"checkpoint": "not a checkpoint\n"}, "checkpoint.txt"),
    (lambda e: {"events": [BundleEvent(**{**e.events[0].__dict__, "canonical": e.events[0].canonical + b" "}),
                           *e.events[1:]]}, "content does not match its hash"),
])
def test_build_bundle_refuses_inputs_whose_bundle_would_not_verify(exported, change, message):
    with pytest.raises(BundleError, match=message):
        _rebuild(exported, **change(exported))


# ---- tampering: each change is caught, and the failure names it ----

def _flip_in_b64(text: str, byte: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[byte] ^= 0x01
    return b64(bytes(raw))


def _events(files):
    return [json.loads(line) for line in files["events.jsonl"].decode().splitlines()]


def _put_events(files, lines):
    files["events.jsonl"] = "".join(verify_bundle.dump_event_line(line) for line in lines).encode()


def edit_canonical(files):
    lines = _events(files)
    lines[1]["canonical"] = b64(base64.b64decode(lines[1]["canonical"]).replace(b"note 1", b"note 9"))
    _put_events(files, lines)


def rewrite_history(files):
    """The insider: change an event's content and recompute its chain hash and every one after it."""
    edit_canonical(files)
    lines, prev = _events(files), "0" * 64
    for line in lines:
        line["prev_hash"] = prev
        line["hash"] = prev = hashlib.sha256(prev.encode() + base64.b64decode(line["canonical"])).hexdigest()
    _put_events(files, lines)


def drop_event(files):
    _put_events(files, [line for line in _events(files) if line["version"] != 3])


def swap_log_index(files):
    lines = _events(files)
    lines[2]["log_index"] += 1
    _put_events(files, lines)


def edit_proof_hash(files):
    proofs = json.loads(files["proofs.json"])
    proofs["inclusion"][0]["hashes"][1] = _flip_in_b64(proofs["inclusion"][0]["hashes"][1], 31)
    files["proofs.json"] = verify_bundle.dump_proofs(proofs).encode()


def _checkpoint_lines(files):
    return files["checkpoint.txt"].decode().split("\n")


def _put_checkpoint(files, lines):
    files["checkpoint.txt"] = "\n".join(lines).encode()


def edit_checkpoint_size(files):
    lines = _checkpoint_lines(files)
    lines[1] = str(int(lines[1]) + 1)
    _put_checkpoint(files, lines)


def edit_checkpoint_root(files):
    lines = _checkpoint_lines(files)
    lines[2] = _flip_in_b64(lines[2], 0)
    _put_checkpoint(files, lines)


def _edit_signature_line(files, number: int, byte: int):
    lines = _checkpoint_lines(files)
    dash, name, sig = lines[3 + number].split(" ")
    lines[3 + number] = f"{dash} {name} {_flip_in_b64(sig, byte)}"
    _put_checkpoint(files, lines)


def edit_log_signature(files):
    _edit_signature_line(files, 1, 40)


def edit_cosignature(files):
    _edit_signature_line(files, 3, 50)


def edit_cosignature_time(files):
    _edit_signature_line(files, 2, 11)


def drop_cosignature(files):
    lines = _checkpoint_lines(files)
    del lines[5]
    _put_checkpoint(files, lines)


ATTACKER = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)


def sign_with_another_key(files):
    lines = _checkpoint_lines(files)
    body = "\n".join(lines[:3]) + "\n"
    lines[4] = log_signature(ORIGIN, ATTACKER, body).rstrip("\n")
    _put_checkpoint(files, lines)


def replace_log_key(files):
    files["log-key.txt"] = (verifier_key(ORIGIN, 0x01, ATTACKER) + "\n").encode()


def edit_log_key(files):
    name, kid, key = files["log-key.txt"].decode().rstrip("\n").split("+", 2)
    files["log-key.txt"] = f"{name}+{kid}+{_flip_in_b64(key, 5)}\n".encode()


def edit_dossier(files):
    files["dossier.html"] = files["dossier.html"].replace(b"3 March", b"4 March")


def edit_pdf(files):
    files["dossier.pdf"] = files["dossier.pdf"].replace(b"%PDF-1.7", b"%PDF-1.6")


def _manifest_edit(change: Callable[[dict], None]):
    def edit(files):
        manifest = json.loads(files["manifest.json"])
        change(manifest)
        files["manifest.json"] = dump_manifest(manifest).encode()
    return edit


# (change, files whose manifest entry the tamperer updates, what the failure names, what it says)
TAMPERING = {
    "one byte of an event, manifest updated": (edit_canonical, ["events.jsonl"], "events.jsonl, event version 2",
                                               "content does not match its hash"),
    "one byte of an event, manifest not updated": (edit_canonical, [], "events.jsonl", "does not match the SHA-256"),
    "history rewritten with every chain hash recomputed": (rewrite_history, ["events.jsonl"],
                                                           "proofs.json, inclusion proof of event version 2",
                                                           "not the one the log holds"),
    "an event left out": (drop_event, ["events.jsonl"], "events.jsonl, line 3", "version 3 is missing"),
    "an event's log index": (swap_log_index, ["events.jsonl"], "events.jsonl / proofs.json, event version 3",
                             "its inclusion proof"),
    "one byte of a proof hash": (edit_proof_hash, ["proofs.json"], "proofs.json, inclusion proof of event version 1",
                                 "does not lead to the checkpoint's root"),
    "the checkpoint's tree size": (edit_checkpoint_size, ["checkpoint.txt"], "checkpoint.txt / proofs.json",
                                   "tree size"),
    "the checkpoint's root hash": (edit_checkpoint_root, ["checkpoint.txt"], "checkpoint.txt / proofs.json",
                                   "root hash"),
    "one byte of the log signature": (edit_log_signature, ["checkpoint.txt"],
                                      "checkpoint.txt, signature of the log key", "not valid"),
    "one byte of a cosignature": (edit_cosignature, ["checkpoint.txt"],
                                  "checkpoint.txt, cosignature of witness witness1.example.net/w", "not valid"),
    "a cosignature's time": (edit_cosignature_time, ["checkpoint.txt"],
                             "checkpoint.txt, cosignature of witness witness0.example.net/w", "not valid"),
    "a cosignature removed": (drop_cosignature, ["checkpoint.txt"], "checkpoint.txt, witness witness0.example.net/w",
                              "did not cosign"),
    "the checkpoint signed with another key": (sign_with_another_key, ["checkpoint.txt"], "checkpoint.txt",
                                               "no signature by the log key"),
    "log-key.txt replaced by another valid key": (replace_log_key, ["log-key.txt"], "checkpoint.txt",
                                                  "no signature by the log key"),
    "one byte of log-key.txt": (edit_log_key, ["log-key.txt"], "log-key.txt", "key id does not match"),
    "the manifest's erased flag": (_manifest_edit(lambda m: m.update(erased=True)), [], "manifest.json",
                                   "record no erasure"),
    "the manifest's case id": (_manifest_edit(lambda m: m.update(case_id="another-case")), [], "manifest.json",
                               "names case another-case"),
    "one digit of a hash in the manifest": (_manifest_edit(lambda m: m["files"].update(
        {"proofs.json": ("1" if m["files"]["proofs.json"][0] != "1" else "2") + m["files"]["proofs.json"][1:]})),
        [], "proofs.json", "does not match the SHA-256 the manifest lists"),
    "one byte of dossier.html": (edit_dossier, [], "dossier.html", "does not match the SHA-256"),
    "one byte of dossier.pdf": (edit_pdf, [], "dossier.pdf", "does not match the SHA-256"),
}


@pytest.mark.parametrize("case", TAMPERING, ids=list(TAMPERING))
def test_tampering_fails_and_names_what(tmp_path, exported, case):
    change, relisted, where, what = TAMPERING[case]
    files = unzip(exported.zip_bytes)
    change(files)
    for name in relisted:
        relist(files, name)
    result = run_verify(tmp_path, rezip(files), *witness_args(exported))
    assert result.returncode == 1, result.stdout
    verdict = result.stdout.strip().splitlines()
    failure = next(line for line in verdict if line.startswith("RESULT: FAILED -- "))
    assert failure.startswith(f"RESULT: FAILED -- {where}"), failure
    assert what in failure, failure


def test_a_whole_forgery_with_another_key_is_caught_by_the_published_key_and_by_the_witnesses(tmp_path, exported):
    files = unzip(exported.zip_bytes)
    rewrite_history(files)  # the insider rewrites an event, then rebuilds the tree and re-signs with their key
    events = [BundleEvent(e.log_index, e.case_id, e.version, e.event_id, e.type, base64.b64decode(line["canonical"]),
                          line["prev_hash"], line["hash"]) for e, line in zip(exported.events, _events(files))]
    forged = _forge(exported, events)
    assert run_verify(tmp_path, forged).returncode == 0  # alone, a forged bundle is self-consistent ...
    alone = run_verify(tmp_path, forged).stdout
    assert grouped_sha256(raw_public(ATTACKER)) in alone  # ... but shows a fingerprint that is not the team's
    pinned = run_verify(tmp_path, forged, "--log-key", exported.log_key)
    assert pinned.returncode == 1 and "RESULT: FAILED -- log-key.txt: is not the log key given with --log-key" \
        in pinned.stdout
    witnessed = run_verify(tmp_path, forged, *witness_args(exported))
    assert witnessed.returncode == 1
    assert "RESULT: FAILED -- checkpoint.txt, witness witness0.example.net/w: did not cosign" in witnessed.stdout


def _forge(exported: Exported, events: list[BundleEvent]) -> bytes:
    """A bundle over the log as the attacker rebuilt it (this case's rewritten events in place of the real ones),
    signed with the attacker's key."""
    rewritten = {e.log_index: e.canonical for e in events}
    tree = Tree()
    for index, data in enumerate(exported.log):
        tree.append(rewritten.get(index, data))
    body = f"{ORIGIN}\n{tree.size}\n{b64(tree.root(tree.size))}\n"
    checkpoint = body + "\n" + log_signature(ORIGIN, ATTACKER, body)
    return build_bundle(case_id=exported.case_id, events=events,
                        inclusion={e.log_index: tree.inclusion(e.log_index, tree.size) for e in events},
                        checkpoint=checkpoint, log_key=verifier_key(ORIGIN, 0x01, ATTACKER),
                        dossier_html=DOSSIER_HTML, dossier_pdf=DOSSIER_PDF, exported_at=EXPORTED_AT, erased=False)


@pytest.mark.parametrize("layout, what", [
    (lambda f: rezip(f, [("notes.txt", b"added")]), "notes.txt: is not part of a Vigil bundle"),
    (lambda f: rezip({k: v for k, v in f.items() if k != "proofs.json"}), "proofs.json: is missing"),
    (lambda f: rezip({k: v for k, v in f.items() if k != "manifest.json"}), "manifest.json: is missing"),
    (lambda f: rezip(f, [("events.jsonl", b"{}\n")]), "holds events.jsonl twice"),
])
def test_a_bundle_with_files_added_missing_or_doubled_fails(tmp_path, exported, layout, what):
    result = run_verify(tmp_path, layout(unzip(exported.zip_bytes)))
    assert result.returncode == 1 and what in result.stdout, result.stdout


def test_a_given_witness_key_without_its_cosignature_fails(tmp_path, exported):
    stranger = verifier_key("stranger.example.net/w", 0x04, ATTACKER)
    result = run_verify(tmp_path, exported.zip_bytes, "--witness-key", stranger)
    assert result.returncode == 1
    assert "RESULT: FAILED -- checkpoint.txt, witness stranger.example.net/w: did not cosign" in result.stdout


@pytest.mark.parametrize("args", [["--witness-key", "not-a-key"], ["--log-key", "name+00000000+AAAA"]])
def test_an_unreadable_key_on_the_command_line_stops_before_checking(tmp_path, exported, args):
    result = run_verify(tmp_path, exported.zip_bytes, *args)
    assert result.returncode == 2 and "Cannot start" in result.stdout


def test_a_damaged_zip_cannot_be_read(tmp_path, exported):
    result = run_verify(tmp_path, exported.zip_bytes[: len(exported.zip_bytes) // 2])
    assert result.returncode == 2 and "Cannot read bundle.zip" in result.stdout


# ---- any single byte changed anywhere: hypothesis picks the file, the position and the new byte ----

def _exported_at_span(manifest: bytes) -> range:
    start = manifest.index(b'"exported_at": "') + len(b'"exported_at": "')
    return range(start, manifest.index(b'"', start))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_one_byte_changed_in_any_file_fails_naming_that_file(exported, data):
    files = unzip(exported.zip_bytes)
    name = data.draw(st.sampled_from(["events.jsonl", "proofs.json", "checkpoint.txt", "log-key.txt",
                                      "manifest.json", "dossier.html", "dossier.pdf"]))
    positions = range(len(files[name]))
    if name == "manifest.json":
        # exported_at is the exporter's unsigned statement; only its form is checked (README says so)
        positions = [p for p in positions if p not in _exported_at_span(files[name])]
    position = data.draw(st.sampled_from(positions))
    original = files[name][position]
    new = data.draw(st.integers(0, 255).filter(lambda b: b != original))
    files[name] = files[name][:position] + bytes([new]) + files[name][position + 1:]
    relisted = name in ("events.jsonl", "proofs.json", "checkpoint.txt", "log-key.txt")
    if relisted:
        relist(files, name)  # the careful tamperer: only the content checks stand between them and success
    keys = [VerifierKey(k, "test", types=(0x04,)) for k in exported.witness_keys]
    with pytest.raises(Failure) as failed:
        check_bundle(files, keys)
    named = failed.value.where + " " + failed.value.what
    assert (name if name != "manifest.json" else "manifest") in named, (name, position, new, named)


# ---- one spelling only: a value written another way that decodes the same is still a change ----

def _respell_b64(text: str) -> str:
    """The same bytes in non-canonical base64: flip an unused low bit of the last data character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = len(text.rstrip("=")) - 1
    respelled = text[:last] + alphabet[alphabet.index(text[last]) ^ 1] + text[last + 1:]
    assert base64.b64decode(respelled) == base64.b64decode(text)
    return respelled


def _respell_proof_hash(files):
    proofs = json.loads(files["proofs.json"])
    proofs["inclusion"][0]["hashes"][0] = _respell_b64(proofs["inclusion"][0]["hashes"][0])
    files["proofs.json"] = verify_bundle.dump_proofs(proofs).encode()


RESPELLED = {
    "a proof hash in non-canonical base64": (_respell_proof_hash, "proofs.json", "not in canonical base64"),
    "the manifest with a tab for a space": (
        lambda f: f.update({"manifest.json": f["manifest.json"].replace(b'  "format"', b'\t"format"')}),
        "manifest.json", "not in its exact canonical form"),
    "an event line with a space after a colon": (
        lambda f: f.update({"events.jsonl": f["events.jsonl"].replace(b'"version":', b'"version": ', 1)}),
        "events.jsonl, line 1", "not in its exact canonical form"),
    "proofs.json indented": (
        lambda f: f.update({"proofs.json": (json.dumps(json.loads(f["proofs.json"]), indent=1) + "\n").encode()}),
        "proofs.json", "not in its exact canonical form"),
}


@pytest.mark.parametrize("case", RESPELLED, ids=list(RESPELLED))
def test_a_value_spelled_differently_but_meaning_the_same_still_fails(exported, case):
    change, where, what = RESPELLED[case]
    files = unzip(exported.zip_bytes)
    change(files)
    changed = where.split(",")[0]
    if changed != "manifest.json":
        relist(files, changed)
    with pytest.raises(Failure) as failed:
        check_bundle(files)
    assert failed.value.where.startswith(where) and what in failed.value.what, failed.value


def test_events_whose_log_order_contradicts_their_versions_are_refused():
    from tests.unit.evidence_bundles import stored_event
    tree, events, prev = Tree(), [], "0" * 64
    for version in (1, 2, 3):
        event = stored_event("case-1", version, prev, EXPORTED_AT, "NoteAdded", {"text": str(version)},
                             f"event-{version}")
        events.append(event)
        prev = event.hash
    indexes = {1: 0, 3: 1, 2: 2}  # version 3 committed before version 2: impossible for an honest store
    for version in (1, 3, 2):
        tree.append(events[version - 1].canonical())
    bundle_events = [BundleEvent.of(e, indexes[e.version]) for e in events]
    body = f"{ORIGIN}\n3\n{b64(tree.root(3))}\n"
    with pytest.raises(BundleError, match="event version 3 .* its log index is not after the previous event's"):
        build_bundle(case_id="case-1", events=bundle_events,
                     inclusion={i: tree.inclusion(i, 3) for i in range(3)},
                     checkpoint=body + "\n" + log_signature(ORIGIN, ATTACKER, body),
                     log_key=verifier_key(ORIGIN, 0x01, ATTACKER), dossier_html=b"", dossier_pdf=b"",
                     exported_at=EXPORTED_AT, erased=False)
