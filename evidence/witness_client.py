"""The log's side of c2sp.org/tlog-witness: ask a witness to cosign a checkpoint (resending from the size it
holds when it answers 409) and keep only a cosignature that verifies with its key; read VIGIL_WITNESSES."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import httpx

from .notes import (NoteError, Signature, VerifierKey, as_cosigner, b64encode, open_note, parse_checkpoint,
                    parse_note, parse_verifier_key)

SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class WitnessConfig:
    url: str  # the submission prefix: POST {url}/add-checkpoint
    key: VerifierKey  # its cosignature/v1 key


class WitnessFailed(Exception):
    """The witness did not cosign; `status` is its answer (0 when it could not be reached), `reason` in words.
    `conflict` is set when it said this checkpoint contradicts one it cosigned: the alarm a witness exists for."""

    def __init__(self, status: int, reason: str, conflict: bool = False):
        super().__init__(f"{status}: {reason}" if status else reason)
        self.status, self.reason, self.conflict = status, reason, conflict


def parse_witnesses(text: str) -> list[WitnessConfig]:
    """`URL=VERIFIERKEY` pairs, comma-separated (VIGIL_WITNESSES). A verifier key may end in '=', a URL may hold
    one: the pair splits at the first '=' after which a verifier key parses."""
    witnesses = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        for at in (i for i, c in enumerate(item) if c == "="):
            try:
                key = parse_verifier_key(item[at + 1:])
            except NoteError:
                continue
            url = item[:at].rstrip("/")
            if not url.startswith(("http://", "https://")):
                raise NoteError(f"witness {item[:60]!r}: the URL must start with http:// or https://")
            witnesses.append(WitnessConfig(url, as_cosigner(key)))
            break
        else:
            raise NoteError(f"witness {item[:60]!r}: expected URL=VERIFIERKEY (name+8 hex digits+base64 key)")
    return witnesses


def add_checkpoint_body(old: int, proof: list[bytes], checkpoint_note: str) -> bytes:
    return ("".join(f"{line}\n" for line in [f"old {old}", *map(b64encode, proof)]) + "\n" + checkpoint_note).encode()


def request_cosignature(client: httpx.Client, witness: WitnessConfig, checkpoint_note: str, old: int,
                        proof_from: Callable[[int], list[bytes]]) -> Signature:
    """The witness's cosignature of `checkpoint_note`, sent with a consistency proof from `old` (the size it last
    cosigned, as far as the log knows; 0 if never). On 409 it is sent once more from the size the witness says it
    holds. Raises WitnessFailed otherwise."""
    size = parse_checkpoint(parse_note(checkpoint_note).text).size
    for attempt in range(2):
        answer = _post(client, witness, add_checkpoint_body(old, proof_from(old) if old else [], checkpoint_note))
        if answer.status_code == 200:
            return _cosignature(witness, checkpoint_note, answer.text)
        if answer.status_code != 409:
            raise WitnessFailed(answer.status_code, answer.text.strip()[:500], conflict=answer.status_code == 422)
        held = _held_size(answer)
        # Holding the size it was sent (so this one has another root), or a larger tree than this checkpoint's:
        # it has seen a history this one contradicts.
        conflict = held == old or held > size
        if conflict or attempt:
            reason = answer.headers.get("x-witness-reason") or f"the witness holds size {held}"
            raise WitnessFailed(409, reason, conflict=conflict)
        old = held
    raise AssertionError("unreachable")


def _post(client: httpx.Client, witness: WitnessConfig, body: bytes) -> httpx.Response:
    try:
        return client.post(witness.url + "/add-checkpoint", content=body)
    except httpx.HTTPError as exc:
        raise WitnessFailed(0, f"cannot reach the witness at {witness.url}: {exc}") from exc


def _held_size(answer: httpx.Response) -> int:
    text = answer.text
    if answer.headers.get("content-type", "").split(";")[0].strip() != SIZE_TYPE or not text.endswith("\n") \
            or not text[:-1].isdigit():
        raise WitnessFailed(409, f"the witness answered 409 without its size: {text[:200]!r}")
    return int(text[:-1])


def _cosignature(witness: WitnessConfig, checkpoint_note: str, answer: str) -> Signature:
    """As the spec suggests: the answer appended to the checkpoint, opened with the witness's key alone."""
    if not answer.endswith("\n") or not all(line.startswith("— ") for line in answer[:-1].split("\n")):
        raise WitnessFailed(200, f"the witness's answer is not signature lines: {answer[:200]!r}")
    try:
        verified, _ = open_note(checkpoint_note + answer, [witness.key])
    except NoteError as exc:
        raise WitnessFailed(200, f"the witness's cosignature does not verify with its key: {exc}") from exc
    return verified.signatures[0]
