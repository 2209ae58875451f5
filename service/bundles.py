"""The dossier bundle: one zip a court, lawyer or UN body checks with no access to Vigil (the dossier for people;
the events, a signed checkpoint covering them, their inclusion proofs, the log key and verify.py for checking)."""
from __future__ import annotations

from events.clock import Clock
from events.i18n import Said, phrase
from events.store import EventStore
from evidence.bundle import BundleEvent, build_bundle
from evidence.checkpoints import latest
from evidence.notes import parse_checkpoint, parse_note
from evidence.signing_job import LogSigning
from evidence.verify_bundle import key_fingerprint

from .access import Principal
from .alerts import AlertService
from .cases import CaseService
from .dossier import Integrity, dossier_html, dossier_pdf
from .errors import Conflict


class DossierBundles:
    def __init__(self, cases: CaseService, alerts: AlertService, store: EventStore, log_signing: LogSigning,
                 clock: Clock):
        self.cases, self.alerts, self.store, self.log_signing, self.clock = cases, alerts, store, log_signing, clock

    def export(self, who: Principal, case_id: str) -> bytes:
        dossier = self.cases.export(who, case_id, self.alerts.for_case(who, case_id))
        events = self.store.read_stream(case_id)
        needed = max(e.log_index for e in events) + 1
        if self._signed_size() < needed:
            # The case's newest events are younger than the last checkpoint: sign one that covers them now (and
            # offer it to the witnesses) rather than hand out a bundle that proves less than the case holds.
            self.log_signing.run(force=True)
        note = self.log_signing.current()
        size = parse_checkpoint(parse_note(note).text).size if note else 0
        if size < needed:
            raise Conflict(Said(phrase("the log could not sign a checkpoint covering this case's events; try again")))
        with self.store.engine.connect() as conn:
            inclusion = {e.log_index: self.store.log.inclusion(conn, e.log_index, size) for e in events}
        verifier = self.log_signing.key.verifier()
        integrity = Integrity(str(verifier), key_fingerprint(verifier.public_key), note)
        now = self.clock.now()
        return build_bundle(case_id=case_id, events=[BundleEvent.of(e, e.log_index) for e in events],
                            inclusion=inclusion, checkpoint=note, log_key=str(verifier),
                            dossier_html=dossier_html(dossier, now, integrity).encode("utf-8"),
                            dossier_pdf=dossier_pdf(dossier, now, integrity), exported_at=now,
                            erased=any(e.type == "PersonalDataErased" for e in events))

    def _signed_size(self) -> int:
        with self.store.engine.connect() as conn:
            last = latest(conn)
        return last[0].size if last else 0
