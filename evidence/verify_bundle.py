#!/usr/bin/env python3
"""Checks a Vigil evidence bundle offline with nothing but the Python standard library (shipped as verify.py).

Usage:  python3 verify.py BUNDLE.zip [--witness-key VKEY ...] [--log-key VKEY]
        (BUNDLE may also be the unpacked directory.)

It checks, in order, and stops at the first failure with exit status 1: the files against the manifest; every
event's hash-chain link; every event's inclusion proof against the checkpoint's root; the checkpoint's signature
by the log key; the cosignature of each witness whose key is given. Exit status 0: all of it holds; 2: the
command line or the bundle could not be read at all.

Formats: RFC 6962 / RFC 9162 Merkle trees, C2SP signed-note, tlog-checkpoint and tlog-cosignature, Ed25519 as in
RFC 8032. Runs on Python 3.9 or later; it imports nothing outside the standard library.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import sys
import zipfile

FORMAT = "vigil-bundle/1"
FILES = ("dossier.pdf", "dossier.html", "events.jsonl", "checkpoint.txt", "proofs.json", "log-key.txt",
         "verify.py")
MANIFEST = "manifest.json"
EVENT_FIELDS = ("log_index", "case_id", "version", "event_id", "type", "canonical", "prev_hash", "hash")
GENESIS = "0" * 64
ERASURE_TYPE = "PersonalDataErased"
MAX_FILE_BYTES = 1 << 30


# ---------------------------------------------------------------------------------------------------------------
# Ed25519 signature verification (RFC 8032 section 5.1.7), cofactorless: [S]B == R + [k]A.

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_BY = 4 * pow(5, _P - 2, _P) % _P
_BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202
_B = (_BX, _BY, 1, _BX * _BY % _P)  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z
_IDENTITY = (0, 1, 1, 0)


def _add(p, q):
    """Point addition on the twisted Edwards curve (a = -1), complete: also right for doubling."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = 2 * _D * t1 * t2 % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar, point):
    result = _IDENTITY
    for bit in bin(scalar)[2:]:
        result = _add(result, result)
        if bit == "1":
            result = _add(result, point)
    return result


def _same_point(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _decode_point(data):
    """A point from its 32-byte encoding, or None if the bytes are not a canonical encoding of a curve point."""
    if len(data) != 32:
        return None
    number = int.from_bytes(data, "little")
    sign = number >> 255
    y = number & ((1 << 255) - 1)
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x2 = u * pow(v, _P - 2, _P) % _P
    if x2 == 0:
        if sign:  # x = 0 has no negative: that encoding is not canonical
            return None
        return (0, y, 1, 0)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None  # y is not the y of any curve point
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def ed25519_verify(public_key, message, signature):
    """True if `signature` is a valid Ed25519 signature of `message` by `public_key` (all bytes)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decode_point(public_key)
    r = _decode_point(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    return _same_point(_multiply(s, _B), _add(r, _multiply(k, a)))


# ---------------------------------------------------------------------------------------------------------------
# Merkle tree (RFC 6962 section 2.1; inclusion proof verification as RFC 9162 section 2.1.3.2)

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_root(leaf, index, size, path):
    """The root that the audit path `path` gives leaf `index` of a tree of `size`, or None if the path's shape
    does not fit that index and size."""
    if not 0 <= index < size:
        return None
    fn, sn, hashed = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            hashed = node_hash(sibling, hashed)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            hashed = node_hash(hashed, sibling)
        fn, sn = fn >> 1, sn >> 1
    return hashed if sn == 0 else None


# ---------------------------------------------------------------------------------------------------------------
# Strict decoding: every value has exactly one accepted spelling, so changing any byte changes what is read.

class Failure(Exception):
    """A check that did not hold: `where` names the file, event or signature, `what` says what is wrong."""

    def __init__(self, where, what):
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what


def b64decode(text, where, what, size=None):
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Failure(where, f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Failure(where, f"{what} is not in canonical base64")
    if size is not None and len(raw) != size:
        raise Failure(where, f"{what} is {len(raw)} bytes, not {size}")
    return raw


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def dump_event_line(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True) + "\n"


def dump_proofs(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True) + "\n"


def dump_manifest(obj):
    return json.dumps(obj, indent=2, ensure_ascii=True) + "\n"


def _load_canonical_json(data, where, dump, what="the file"):
    """Parse JSON that must be exactly in the form `dump` writes (same keys, order and spacing)."""
    try:
        text = data.decode("utf-8")
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        raise Failure(where, f"{what} is not valid JSON") from None
    if dump(obj) != text:
        raise Failure(where, f"{what} is not in its exact canonical form (was it edited?)")
    return obj


def _require_keys(obj, keys, where):
    if not isinstance(obj, dict) or tuple(obj) != tuple(keys):
        raise Failure(where, "its fields are not exactly " + ", ".join(keys))


# ---------------------------------------------------------------------------------------------------------------
# Signed notes (C2SP signed-note), checkpoints (C2SP tlog-checkpoint), verifier keys and cosignatures

def key_id(name, signature_type, public_key):
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def key_fingerprint(public_key):
    """SHA-256 of the 32-byte public key, in groups of four hex digits, for a person to compare by eye."""
    digest = hashlib.sha256(public_key).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


_NAME = re.compile(r"[^\s+\x00-\x1f\x7f]+")


class VerifierKey:
    """A verifier key `<name>+<8 hex digit key id>+<base64(type byte || 32-byte Ed25519 public key)>`."""

    def __init__(self, text, where, types=(0x01,)):
        parts = text.split("+", 2)
        if len(parts) != 3 or not _NAME.fullmatch(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise Failure(where, "is not a verifier key of the form name+keyid+key")
        self.text = text
        self.name = parts[0]
        raw = b64decode(parts[2], where, "the key", size=33)
        self.type, self.public_key = raw[0], raw[1:]
        if self.type not in types:
            raise Failure(where, f"key type {self.type:#04x} is not one of "
                                 + ", ".join(f"{t:#04x}" for t in types))
        if key_id(self.name, self.type, self.public_key).hex() != parts[1]:
            raise Failure(where, "its key id does not match its name and key")
        if _decode_point(self.public_key) is None:
            raise Failure(where, "its key is not a valid Ed25519 public key")

    def id_for(self, signature_type):
        return key_id(self.name, signature_type, self.public_key)


def parse_note(data, where):
    """(note text, [(key name, key id, signature bytes)]) from a signed note."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure(where, "is not valid UTF-8") from None
    if any(ch < " " and ch != "\n" for ch in text):
        raise Failure(where, "contains control characters")
    cut = text.rfind("\n\n")
    if cut < 0 or not text.endswith("\n"):
        raise Failure(where, "is not a signed note (no blank line before the signatures)")
    body, block = text[:cut + 1], text[cut + 2:]
    signatures = []
    for line in block[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or not _NAME.fullmatch(parts[1]):
            raise Failure(where, f"signature line {line!r} is malformed")
        raw = b64decode(parts[2], where, f"the signature of {parts[1]}")
        if len(raw) < 5:
            raise Failure(where, f"the signature of {parts[1]} is too short")
        signatures.append((parts[1], raw[:4], raw[4:]))
    if not signatures:
        raise Failure(where, "has no signature lines")
    return body, signatures


class Checkpoint:
    def __init__(self, data, where="checkpoint.txt"):
        self.body, self.signatures = parse_note(data, where)
        lines = self.body[:-1].split("\n")
        if len(lines) < 3 or not all(lines):
            raise Failure(where, "the checkpoint needs an origin, a tree size and a root hash, no empty lines")
        self.origin = lines[0]
        if not re.fullmatch(r"0|[1-9][0-9]{0,19}", lines[1]):
            raise Failure(where, f"tree size {lines[1]!r} is not a decimal number")
        self.size = int(lines[1])
        self.root = b64decode(lines[2], where, "the root hash", size=32)


def cosigned_message(body, timestamp):
    return f"cosignature/v1\ntime {timestamp}\n".encode("ascii") + body.encode("utf-8")


# ---------------------------------------------------------------------------------------------------------------
# The checks

class Report:
    def __init__(self):
        self.lines = []
        self.case_id = self.exported_at = None
        self.events = 0
        self.erasure = None
        self.first_recorded = self.last_recorded = None
        self.checkpoint = None
        self.log_key = None
        self.witnesses = []
        self.unchecked = []

    def ok(self, text):
        self.lines.append(text)


def _utc(seconds):
    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"{seconds} seconds after 1970 (beyond the calendar)"


def check_manifest(files, report):
    if MANIFEST not in files:
        raise Failure(MANIFEST, "is missing")
    manifest = _load_canonical_json(files[MANIFEST], MANIFEST, dump_manifest)
    _require_keys(manifest, ("format", "case_id", "exported_at", "erased", "files"), MANIFEST)
    if manifest["format"] != FORMAT:
        raise Failure(MANIFEST, f"format {manifest['format']!r} is not {FORMAT!r}")
    if not isinstance(manifest["case_id"], str) or not isinstance(manifest["erased"], bool):
        raise Failure(MANIFEST, "case_id must be text and erased true or false")
    exported = manifest["exported_at"]
    if not isinstance(exported, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", exported):
        raise Failure(MANIFEST, "exported_at is not a UTC time like 2026-01-31T12:00:00Z")
    listed = manifest["files"]
    if not isinstance(listed, dict) or sorted(listed) != sorted(FILES) or list(listed) != sorted(listed):
        raise Failure(MANIFEST, "its file list is not exactly " + ", ".join(sorted(FILES)))
    extra = sorted(set(files) - set(FILES) - {MANIFEST})
    if extra:
        raise Failure(extra[0], "is not part of a Vigil bundle (extra file)")
    for name in sorted(FILES):
        if name not in files:
            raise Failure(name, "is missing")
        if hashlib.sha256(files[name]).hexdigest() != listed[name]:
            raise Failure(name, "does not match the SHA-256 the manifest lists for it (changed or damaged)")
    report.case_id, report.exported_at = manifest["case_id"], exported
    report.ok(f"all {len(FILES)} files match the SHA-256 fingerprints the manifest lists")
    return manifest


def read_events(data, case_id):
    where = "events.jsonl"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure(where, "is not valid UTF-8") from None
    if not text.endswith("\n"):
        raise Failure(where, "does not end with a newline")
    events = []
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        here = f"{where}, line {number}"
        event = _load_canonical_json((line + "\n").encode("utf-8"), here, dump_event_line, "the line")
        _require_keys(event, EVENT_FIELDS, here)
        if not (_is_int(event["log_index"]) and _is_int(event["version"])
                and all(isinstance(event[k], str) for k in EVENT_FIELDS if k not in ("log_index", "version"))):
            raise Failure(here, "log_index and version must be whole numbers and the other fields text")
        where_event = f"{where}, event version {event['version']} (log index {event['log_index']})"
        canonical = b64decode(event["canonical"], where_event, "canonical")
        try:
            fields = json.loads(canonical.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Failure(where_event, "its canonical bytes are not the JSON record of an event") from None
        if not isinstance(fields, list) or len(fields) != 11:
            raise Failure(where_event, "its canonical bytes are not the 11-field record of an event")
        for position, key in ((0, "event_id"), (1, "case_id"), (2, "version"), (3, "type")):
            if fields[position] != event[key] or isinstance(fields[position], bool):
                raise Failure(where_event, f"its {key} differs from the one inside its canonical bytes")
        if event["case_id"] != case_id:
            raise Failure(MANIFEST, f"names case {case_id}, but event version {event['version']} belongs to case "
                                    f"{event['case_id']}")
        event["canonical"] = canonical
        event["recorded_at"] = fields[7]
        events.append(event)
    if not events:
        raise Failure(where, "holds no events")
    return events


def check_chain(events, report):
    prev = GENESIS
    last_index = -1
    for number, event in enumerate(events, start=1):
        where = f"events.jsonl, event version {event['version']} (log index {event['log_index']})"
        if event["version"] != number:
            raise Failure(f"events.jsonl, line {number}", f"has version {event['version']}; version {number} "
                                                          "is missing or out of order")
        if event["prev_hash"] != prev:
            raise Failure(where, "its link to the previous event is broken (prev_hash differs)")
        if hashlib.sha256(prev.encode("ascii") + event["canonical"]).hexdigest() != event["hash"]:
            raise Failure(where, "its content does not match its hash")
        if event["log_index"] <= last_index:
            raise Failure(where, "its log index is not after the previous event's")
        prev, last_index = event["hash"], event["log_index"]
    report.events = len(events)
    report.first_recorded, report.last_recorded = events[0]["recorded_at"], events[-1]["recorded_at"]
    report.ok(f"{len(events)} events form one unbroken hash chain, versions 1 to {len(events)}")


def check_erasure(events, manifest, report):
    erasures = [e for e in events if e["type"] == ERASURE_TYPE]
    if bool(erasures) != manifest["erased"]:
        raise Failure(MANIFEST, f"says erased is {str(manifest['erased']).lower()}, but the events "
                                + ("record an erasure" if erasures else "record no erasure"))
    if erasures:
        report.erasure = erasures[0]


def check_proofs(data, events, checkpoint, report):
    where = "proofs.json"
    proofs = _load_canonical_json(data, where, dump_proofs)
    _require_keys(proofs, ("tree_size", "root_hash", "inclusion"), where)
    both = "checkpoint.txt / proofs.json"
    if not _is_int(proofs["tree_size"]) or proofs["tree_size"] != checkpoint.size:
        raise Failure(both, f"the checkpoint's tree size is {checkpoint.size}, the proofs' {proofs['tree_size']}")
    if not isinstance(proofs["root_hash"], str) \
            or b64decode(proofs["root_hash"], where, "root_hash", size=32) != checkpoint.root:
        raise Failure(both, "the checkpoint's root hash differs from the proofs' root_hash")
    inclusion = proofs["inclusion"]
    if not isinstance(inclusion, list) or len(inclusion) != len(events):
        raise Failure(where, f"needs exactly one inclusion proof per event ({len(events)})")
    for number, (proof, event) in enumerate(zip(inclusion, events), start=1):
        here = f"{where}, inclusion proof {number}"
        _require_keys(proof, ("log_index", "hashes"), here)
        if proof["log_index"] != event["log_index"] or not _is_int(proof["log_index"]):
            raise Failure(f"events.jsonl / proofs.json, event version {event['version']}",
                          f"the event says log index {event['log_index']}, its inclusion proof (number {number}) "
                          f"says {proof['log_index']}")
        here = f"{where}, inclusion proof of event version {event['version']} (log index {event['log_index']})"
        if not isinstance(proof["hashes"], list) or not all(isinstance(h, str) for h in proof["hashes"]):
            raise Failure(here, "hashes must be a list of base64 hashes")
        path = [b64decode(h, here, f"hash {i + 1}", size=32) for i, h in enumerate(proof["hashes"])]
        root = inclusion_root(leaf_hash(event["canonical"]), event["log_index"], checkpoint.size, path)
        if root != checkpoint.root:
            raise Failure(here, f"does not lead to the checkpoint's root: this event is not the one the log "
                                f"holds at index {event['log_index']} of the tree of size {checkpoint.size}")
    report.ok(f"each of the {len(events)} events is in the log at its index: {len(events)} inclusion proofs "
              f"lead to the checkpoint's root (tree size {checkpoint.size})")


def check_log_signature(checkpoint, log_key, report):
    where = "checkpoint.txt"
    wanted = log_key.id_for(0x01)
    mine = [sig for name, kid, sig in checkpoint.signatures if name == log_key.name and kid == wanted]
    if not mine:
        raise Failure(where, f"carries no signature by the log key {log_key.name}")
    for signature in mine:
        if not ed25519_verify(log_key.public_key, checkpoint.body.encode("utf-8"), signature):
            raise Failure(f"{where}, signature of the log key {log_key.name}", "is not valid for this checkpoint")
    report.ok(f"the checkpoint (tree size {checkpoint.size}) is signed by the log key {log_key.name}")


def check_witnesses(checkpoint, witness_keys, log_key, report):
    where = "checkpoint.txt"
    known = {(log_key.name, log_key.id_for(0x01))}
    for key in witness_keys:
        wanted = key.id_for(0x04)
        known.add((key.name, wanted))
        lines = [sig for name, kid, sig in checkpoint.signatures if name == key.name and kid == wanted]
        if not lines:
            raise Failure(f"{where}, witness {key.name}", "did not cosign this checkpoint (no cosignature line)")
        for signature in lines:
            if len(signature) != 72:
                raise Failure(f"{where}, cosignature of witness {key.name}", "is not 8 + 64 bytes long")
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp >= 1 << 63 or not ed25519_verify(key.public_key, cosigned_message(checkpoint.body,
                                                                                            timestamp),
                                                             signature[8:]):
                raise Failure(f"{where}, cosignature of witness {key.name}", "is not valid for this checkpoint")
            report.witnesses.append((key.name, timestamp))
            report.ok(f"witness {key.name} cosigned this checkpoint on {_utc(timestamp)}")
    report.unchecked = sorted({name for name, kid, _ in checkpoint.signatures if (name, kid) not in known})


def check_bundle(files, witness_keys=(), expected_log_key=None, report=None):
    """Run every check over the bundle's files ({name: bytes}); the Report if all hold, else raises Failure
    (`report` then holds the checks that passed before it)."""
    report = Report() if report is None else report
    manifest = check_manifest(files, report)
    events = read_events(files["events.jsonl"], manifest["case_id"])
    check_chain(events, report)
    check_erasure(events, manifest, report)
    checkpoint = Checkpoint(files["checkpoint.txt"])
    report.checkpoint = checkpoint
    check_proofs(files["proofs.json"], events, checkpoint, report)
    try:
        key_text = files["log-key.txt"].decode("utf-8")
    except UnicodeDecodeError:
        raise Failure("log-key.txt", "is not a verifier key (not UTF-8)") from None
    if not key_text.endswith("\n") or "\n" in key_text[:-1]:
        raise Failure("log-key.txt", "must hold exactly one line, the log's verifier key")
    log_key = VerifierKey(key_text[:-1], "log-key.txt")
    report.log_key = log_key
    if expected_log_key is not None and expected_log_key.text != log_key.text:
        raise Failure("log-key.txt", f"is not the log key given with --log-key ({expected_log_key.text})")
    check_log_signature(checkpoint, log_key, report)
    check_witnesses(checkpoint, witness_keys, log_key, report)
    return report


# ---------------------------------------------------------------------------------------------------------------
# Reading the bundle and telling the reader

def read_bundle(path):
    """{file name: bytes} from a bundle zip or its unpacked directory (OSError / zipfile.BadZipFile if unreadable,
    Failure if its layout is wrong)."""
    if os.path.isdir(path):
        files = {}
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if name.startswith(".") or not os.path.isfile(full):
                continue  # e.g. .DS_Store, which unpacking tools add
            with open(full, "rb") as handle:
                files[name] = handle.read()
        return files
    files = {}
    with zipfile.ZipFile(path) as bundle:
        for info in bundle.infolist():
            if info.filename in files:
                raise Failure(os.path.basename(path), f"holds {info.filename} twice")
            if info.file_size > MAX_FILE_BYTES:
                raise Failure(info.filename, "is too large for a bundle file")
            try:
                files[info.filename] = bundle.read(info)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, RuntimeError,
                    NotImplementedError) as exc:
                raise Failure(info.filename, f"cannot be read from the zip (damaged: {exc})") from None
    return files


WHAT_IT_PROVES = """\
What this proves:
  - These events are exactly the ones the log recorded at these log indexes, unchanged since.
  - The holder of the log key signed a log state (the checkpoint) that contains them.
  - Each witness listed above countersigned that same log state at the time shown: an independent party saw it
    and would have refused it had it contradicted what it saw before.

What this cannot prove:
  - That what the events say is true: the log proves what was recorded and when, not that it is correct.
  - That nothing was withheld: an event never recorded in the log cannot be shown to be missing.
  - That the log key is the organisation's: compare the key and fingerprint above with the one it published
    (its website or letterhead). A bundle signed by some other key proves nothing about that organisation.
  - The dossier (dossier.pdf, dossier.html) is a readable rendering of these events; its files are checked
    against the manifest, but the manifest itself is not signed. Personal details inside the events are
    encrypted; the checks cover their encrypted form."""


def format_report(report, bundle_name, verifier_sha256):
    out = [f"Vigil evidence bundle: {bundle_name}",
           f"Case {report.case_id}, exported {report.exported_at} (the exporter's statement; not signed)", "",
           "Checked:"]
    out += [f"  [ok] {line}" for line in report.lines]
    out += ["", "RESULT: VERIFIED -- every check above holds.", "",
            f"Events: {report.events}, recorded from {report.first_recorded} to {report.last_recorded}."]
    if report.erasure is not None:
        out.append(f"The person's personal data was erased (event version {report.erasure['version']}, recorded "
                   f"{report.erasure['recorded_at']}); the events keep only its encrypted form.")
    cp = report.checkpoint
    out += ["", "Checkpoint:", f"  log:        {cp.origin}", f"  tree size:  {cp.size}",
            f"  root hash:  {base64.b64encode(cp.root).decode('ascii')}", "",
            "Log key (compare it with the one the organisation published):",
            f"  {report.log_key.text}", f"  fingerprint: {key_fingerprint(report.log_key.public_key)}", ""]
    if report.witnesses:
        out.append("Witnesses that cosigned this checkpoint:")
        out += [f"  {name}, on {_utc(ts)}" for name, ts in report.witnesses]
    else:
        out.append("Witnesses: none checked (give a witness's published key with --witness-key to check it).")
    if report.unchecked:
        out.append("Other signatures on the checkpoint, not checked (no key given): " + ", ".join(report.unchecked))
    out += ["", WHAT_IT_PROVES, "",
            f"This verifier: verify.py, SHA-256 {verifier_sha256} (compare it with Vigil's published verify.py if "
            "you did not get it from a source you trust)."]
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="verify.py", description="Check a Vigil evidence bundle offline.")
    parser.add_argument("bundle", help="the bundle .zip, or the directory it was unpacked into")
    parser.add_argument("--witness-key", action="append", default=[], metavar="VKEY",
                        help="a witness's published verifier key; its cosignature must be present and valid "
                             "(repeatable)")
    parser.add_argument("--log-key", metavar="VKEY", help="the log key the organisation published; "
                                                          "log-key.txt must be exactly this key")
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):  # a console that cannot show a character must not stop the report
        sys.stdout.reconfigure(errors="replace")
    try:
        witness_keys = [VerifierKey(k, f"--witness-key {k}", types=(0x04, 0x01)) for k in args.witness_key]
        expected = VerifierKey(args.log_key, f"--log-key {args.log_key}") if args.log_key else None
    except Failure as failure:
        print(f"Cannot start: {failure}")
        return 2
    report = Report()
    try:
        check_bundle(read_bundle(args.bundle), witness_keys, expected, report)
    except (OSError, zipfile.BadZipFile) as exc:
        print(f"Cannot read {args.bundle}: {exc}")
        return 2
    except Failure as failure:
        print(f"Vigil evidence bundle: {args.bundle}")
        print("\n".join(f"  [ok] {line}" for line in report.lines))
        print(f"  [FAILED] {failure.where}: {failure.what}")
        print(f"\nRESULT: FAILED -- {failure.where}: {failure.what}")
        print("The bundle does not verify: do not rely on it. The checks after this one were not run.")
        return 1
    with open(os.path.abspath(__file__), "rb") as handle:
        own = hashlib.sha256(handle.read()).hexdigest()
    print(format_report(report, args.bundle, own))
    return 0


if __name__ == "__main__":
    sys.exit(main())
