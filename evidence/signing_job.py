"""The scheduler's log job: sign a checkpoint when the log has grown, then offer the latest one to every witness
that has not cosigned it yet (one that was down catches up on the next run)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from .checkpoints import Checkpointer, LogKey, Signed
from .witnessing import Witnessing

log = logging.getLogger("vigil.log")


@dataclass
class LogSigning:
    key: LogKey
    checkpointer: Checkpointer
    witnessing: Witnessing
    # Told the latest checkpoint's size at every run, once it is offered (the log.checkpoint webhooks): a crash
    # between signing and telling them, or a subscriber added since, is made good at the next run, so a listener
    # must take the same size twice without doing anything twice.
    on_signed: list[Callable[[int], None]] = field(default_factory=list)

    def run(self, force: bool = False) -> Signed | None:
        """One round; `force` signs even if the last checkpoint is younger than the configured interval."""
        signed = self.checkpointer.sign_if_due(force=force)
        with_log_signature = signed.note if signed else self.checkpointer.latest_note()
        if with_log_signature is not None:
            for url, outcome in self.witnessing.offer(with_log_signature).items():
                log.info("checkpoint offered to witness %s: %s", url, outcome)
        size = signed.checkpoint.size if signed else self.checkpointer.latest_size()
        if size:
            for listener in self.on_signed:
                listener(size)
        return signed

    def current(self) -> str | None:
        return self.checkpointer.current()
