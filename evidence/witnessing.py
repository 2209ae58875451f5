"""Offers each checkpoint the log signs to the team's witnesses (VIGIL_WITNESSES) and keeps the cosignatures they
answer; a witness that says the log contradicts what it cosigned is logged as the alarm it is."""
from __future__ import annotations

import logging
from typing import Callable

import httpx
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from events.clock import Clock
from events.log_tree import LogTree
from events.transactions import writing

from .notes import Signature, parse_checkpoint, parse_note
from .tables import cosignatures
from .witness_client import WitnessConfig, WitnessFailed, request_cosignature

log = logging.getLogger("vigil.witness")


class Witnessing:
    def __init__(self, engine: Engine, tree: LogTree, witnesses: list[WitnessConfig], clock: Clock,
                 client_factory: Callable[[], httpx.Client] = lambda: httpx.Client(timeout=10.0)):
        self.engine, self.tree, self.witnesses, self.clock = engine, tree, witnesses, clock
        self.client_factory = client_factory

    def cosigned_size(self, witness: WitnessConfig) -> int:
        """The largest tree size this witness cosigned for the log (0 if none): where its next proof starts."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(cosignatures.c.tree_size))
                                .where(cosignatures.c.witness == str(witness.key))).scalar() or 0

    def offer(self, note: str) -> dict[str, str]:
        """Ask every witness to cosign the signed checkpoint `note`; each witness's outcome, in words."""
        if not self.witnesses:
            return {}
        size = parse_checkpoint(parse_note(note).text).size
        outcomes = {}
        with self.client_factory() as client:
            for witness in self.witnesses:
                outcomes[witness.url] = self._offer_one(client, witness, note, size)
        return outcomes

    def _offer_one(self, client: httpx.Client, witness: WitnessConfig, note: str, size: int) -> str:
        old = self.cosigned_size(witness)
        if old >= size:
            return "cosigned before"
        try:
            signature = request_cosignature(client, witness, note, old,
                                            lambda old: self._proof(old, size))
        except WitnessFailed as exc:
            if exc.conflict:
                log.critical("witness %s refuses checkpoint %d as inconsistent with what it cosigned before: %s",
                             witness.url, size, exc.reason)
                return f"conflict: {exc.reason}"
            log.warning("witness %s did not cosign checkpoint %d: %s", witness.url, size, exc)
            return f"not cosigned: {exc}"
        self._keep(witness, size, signature)
        return "cosigned"

    def _proof(self, old: int, size: int) -> list[bytes]:
        with self.engine.connect() as conn:
            return self.tree.consistency(conn, old, size)

    def _keep(self, witness: WitnessConfig, size: int, signature: Signature) -> None:
        row = {"tree_size": size, "witness": str(witness.key), "line": signature.line(),
               "received_at": self.clock.now()}
        try:
            with writing(self.engine) as conn:
                conn.execute(insert(cosignatures).values(**row))
        except IntegrityError:
            # Offered twice (two processes at once): the witness's first cosignature of this size is kept.
            log.info("witness %s: a cosignature of checkpoint %d was already kept", witness.url, size)
