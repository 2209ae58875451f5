"""Pull mode: a witness fetches a Vigil log's latest checkpoint and a consistency proof from what it holds, and
runs the same checks as `add-checkpoint` (for a partner that cannot take connections from the log)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx

from .notes import NoteError, VerifierKey, b64decode, open_checkpoint
from .witness import AddRequest, Outcome, Witness


class LogUnreachable(Exception):
    """The log could not be asked (network, or an answer that is not the log's API): nothing was checked."""


@dataclass(frozen=True)
class LogClient:
    base_url: str
    client: httpx.Client
    api_key: str | None = None

    def _get(self, path: str, params: dict[str, int] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            answer = self.client.get(self.base_url.rstrip("/") + path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise LogUnreachable(f"cannot reach the log at {self.base_url}: {exc}") from exc
        if answer.status_code != 200:
            raise LogUnreachable(f"the log answered {answer.status_code} to GET {path}: {answer.text[:200]!r}")
        return answer

    def checkpoint(self) -> str:
        return self._get("/v1/log/checkpoint").text

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """The proof's hashes; an answer that is not a proof for (old, new) raises NoteError (a failed check)."""
        answer = self._get("/v1/log/proof/consistency", {"old": old, "new": new})
        try:
            proof = answer.json()
        except ValueError as exc:
            raise NoteError("the log's consistency proof is not JSON") from exc
        if (not isinstance(proof, dict) or proof.get("old") != old or proof.get("new") != new
                or not isinstance(proof.get("hashes"), list) or not all(isinstance(h, str) for h in proof["hashes"])):
            raise NoteError(f"the log's answer is not a consistency proof from {old} to {new}")
        return [b64decode(h) for h in proof["hashes"]]


def check_log(witness: Witness, log: LogClient, log_keys: list[VerifierKey], now: datetime) -> Outcome:
    """Fetch, verify and remember the log's latest checkpoint; the outcome says whether it is consistent with
    what this witness held (accepted) or why not (refused, and kept as evidence where it contradicts it)."""
    for _ in range(3):  # another process (a `serve` on the same state) may move the state between two reads
        outcome = _check_once(witness, log, log_keys, now)
        if outcome.status != 409 or outcome.conflict:
            break
    return outcome


def _check_once(witness: Witness, log: LogClient, log_keys: list[VerifierKey], now: datetime) -> Outcome:
    note = log.checkpoint()
    try:
        checkpoint, _ = open_checkpoint(note, log_keys)
    except NoteError as exc:
        return Outcome(403, f"the log's checkpoint does not verify with its key: {exc}")
    seen = witness.latest(checkpoint.origin)
    size = seen["size"] if seen else 0
    if checkpoint.size < size:
        return witness.record_rollback(note, now)
    proof: list[bytes] = []
    if 0 < size < checkpoint.size:
        try:
            proof = log.consistency_proof(size, checkpoint.size)
        except NoteError as exc:
            return Outcome(422, str(exc), checkpoint=checkpoint)
    return witness.add(AddRequest(size, proof, note), now)
