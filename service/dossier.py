"""The dossier people read: a case's export told in words, with an integrity appendix, as HTML and PDF; pure."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .event_words import DETAIL_FIELDS, EventWords, moment_words, when_words
from .web.display import as_datetime, humanize, status_label

ERASED_TITLE = "Erased person"
HASH_SHOWN = 16  # hex digits of an event hash the appendix shows: enough to match by eye against events.jsonl


@dataclass(frozen=True)
class Integrity:
    """What the appendix says of the transparency log; a part left None shows as "not available"."""
    log_key: str | None = None  # the log's verifier key, `<name>+<key id>+<base64 key>`
    fingerprint: str | None = None  # of the log key, as the team publishes it
    checkpoint: str | None = None  # the checkpoint text the bundle carries, with its signature lines


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: str
    signers: tuple[str, ...]


def read_checkpoint(text: str | None) -> Checkpoint | None:
    """The parts of a C2SP checkpoint a reader looks at; None when the text is not one (shown as such)."""
    if not text:
        return None
    body, _, signatures = text.partition("\n\n")
    lines = body.split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        return None
    # Signature lines are "— <key name> <base64>" (an em dash, C2SP signed-note).
    signers = tuple(parts[1] for parts in (line.split(" ") for line in signatures.splitlines())
                    if len(parts) == 3 and parts[0] == "\u2014")
    return Checkpoint(lines[0], int(lines[1]), lines[2], signers)


def title_of(case: dict[str, Any]) -> str:
    """The person's name; "Erased person" once erased; the case's short id when names are not shown."""
    person = case.get("person")
    if person and person.get("name"):
        return person["name"]
    if case.get("personal_data_erased"):
        return ERASED_TITLE
    return f"Case {case['id'][:8]}"


def _timeline(events: list[dict[str, Any]], words: EventWords, tz: str | None) -> list[dict[str, Any]]:
    by_id = {e["event_id"]: e for e in events}
    items = []
    # In the order things happened (history reported later is placed where it belongs), then as recorded.
    for e in sorted(events, key=lambda e: (as_datetime(e["occurred_at"]), e["version"])):
        data = e.get("data") or {}
        retraction = by_id.get(e.get("retracted_by") or "")
        items.append({
            "version": e["version"],
            "when": when_words(e["occurred_at"], e["date_precision"], tz),
            "precision": e["date_precision"],
            "sentence": words.sentence(e["type"], data),
            "details": [(humanize(k), data[k]) for k in DETAIL_FIELDS if isinstance(data.get(k), str) and data[k]],
            "source": e.get("source"),
            "recorded": moment_words(e["recorded_at"], tz),
            "actor": e.get("actor"),
            "retracted": None if not e.get("retracted_by") else {
                "version": retraction["version"] if retraction else None,
                "when": moment_words(retraction["recorded_at"], tz) if retraction else None,
                "reason": (retraction.get("data") or {}).get("reason") if retraction else None},
        })
    return items


def _alerts(dossier: dict[str, Any], words: EventWords, tz: str | None) -> list[dict[str, Any]]:
    reached: dict[str, list[dict[str, Any]]] = {}
    for d in dossier.get("deliveries") or []:
        # Whom an alert reached, and no more: never a channel's URL, address, secret or error text.
        reached.setdefault(d["alert_id"], []).append({
            "subscription": d.get("subscription_name") or "a subscription", "channel": d.get("channel_kind"),
            "escalation": d.get("target") == "escalation", "state": d.get("state"),
            "delivered": moment_words(d.get("delivered_at"), tz), "attempts": d.get("attempts")})
    return [{"title": a["title"], "severity": a["severity"], "state": a["state"],
             "raised": moment_words(a["raised_at"], tz), "late": a.get("late"),
             "about": words.name_of(a["event_id"]) if a.get("event_id") else None,
             "acknowledged": moment_words(a.get("acknowledged_at"), tz), "acknowledged_by": a.get("acknowledged_by"),
             "withdrawn": moment_words(a.get("withdrawn_at"), tz), "reached": reached.get(a["id"], [])}
            for a in sorted(dossier.get("alerts") or [], key=lambda a: a["raised_at"])]


def leaf_lines(events: list[dict[str, Any]]) -> str:
    """The appendix's list of entries as aligned plain lines: #, log index, hash (start), entry. Plain text, not a
    table: WeasyPrint lays a table out row by row, which doubled a 300-entry dossier's PDF time."""
    rows = [("#", "log index", f"hash (first {HASH_SHOWN})", "entry")]
    rows += [(str(e["version"]), "not available" if e.get("log_index") is None else str(e["log_index"]),
              (e.get("hash") or "")[:HASH_SHOWN], humanize(e["type"])) for e in events]
    return "\n".join(f"{a:>5}  {b:>13}  {c:<{HASH_SHOWN}}  {d}" for a, b, c, d in rows)


def dossier_context(dossier: dict[str, Any], now: datetime, integrity: Integrity | None = None) -> dict[str, Any]:
    """What the template shows, every date already in words: `dossier` is what CaseService.export returns."""
    case, events = dossier["case"], dossier["events"]
    tz = case.get("timezone")
    by_id = {e["event_id"]: e for e in events}

    def name_of(event_id: Any) -> str:
        e = by_id.get(str(event_id))
        if e is None:
            return "an entry not in this case"
        return f"#{e['version']} {humanize(e['type'])} on {when_words(e['occurred_at'], e['date_precision'], tz)}"

    words = EventWords(tz, name_of)
    integrity = integrity or Integrity()
    return {
        "title": title_of(case), "case": case, "tz": tz, "status": status_label(case["status"]),
        "erased": bool(case.get("personal_data_erased")), "person_shown": "person" in case,
        "upcoming": [{"label": u["label"], "when": moment_words(u["at"], tz), "overdue": u.get("overdue")}
                     for u in case.get("upcoming") or []],
        "measures": [{"body": m["body"], "since": when_words(m["since"], "day", tz),
                      "until": moment_words(m.get("expires_at"), tz)} for m in case.get("interim_measures") or []],
        "timeline": _timeline(events, words, tz),
        "alerts": _alerts(dossier, words, tz),
        "verify": dossier.get("verify") or {},
        "leaves": leaf_lines(events),
        "integrity": integrity, "checkpoint": read_checkpoint(integrity.checkpoint),
        "prepared": moment_words(now, tz),
    }


# The dossier is one self-contained file (lawyers save, print and file it), so its style is inline; the page's CSP
# allows exactly this stylesheet by its hash, and nothing else inline. @page rules shape the PDF (A4, numbered).
DOSSIER_CSS = """@page { size: A4; margin: 18mm 16mm 20mm;
  @bottom-left { content: string(person); font: 8pt "DejaVu Sans", sans-serif; color: #555; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt "DejaVu Sans", sans-serif;
                  color: #555; } }
body { font: 10.5pt/1.45 "DejaVu Sans", "Liberation Sans", system-ui, sans-serif; color: #111; max-width: 48rem;
       margin: 1.5rem auto; padding: 0 1rem; }
@media print { body { margin: 0; padding: 0; max-width: none; } a { color: inherit; } }
h1 { font-size: 20pt; margin: 0 0 .2rem; string-set: person content(); }
h2 { font-size: 13pt; margin: 1.6rem 0 .5rem; border-bottom: 1px solid #999; padding-bottom: .15rem;
     break-after: avoid; }
.sub { color: #444; margin: 0 0 1rem; }
dl.facts { display: grid; grid-template-columns: 11rem 1fr; gap: .2rem .8rem; margin: 0; }
dl.facts dt { font-weight: bold; } dl.facts dd { margin: 0; }
ol.timeline { list-style: none; padding: 0; margin: 0; }
ol.timeline > li { padding: .2rem 0 .2rem .7rem; border-left: 3px solid #2a5d8f; margin-bottom: .4rem;
                   break-inside: avoid; }
ol.timeline p { margin: .1rem 0; }
.when { font-weight: bold; } .sentence { font-size: 11pt; }
.meta, .muted { color: #555; font-size: 9pt; }
.detail { margin: .15rem 0; white-space: pre-line; }
li.retracted { border-left-color: #b00; }
li.retracted .sentence, li.retracted .detail { text-decoration: line-through; color: #555; }
.retraction-note { color: #b00; font-weight: bold; margin: .15rem 0; }
ul.reached { margin: .2rem 0 0; padding-left: 1.2rem; }
.alert { margin-bottom: .6rem; break-inside: avoid; }
.failed { color: #b00; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; word-break: break-all;
            white-space: pre-wrap; }
code.cmd { white-space: nowrap; word-break: normal; }
pre { background: #f4f4f4; padding: .4rem; border: 1px solid #ddd; }
pre.leaves { white-space: pre; word-break: normal; background: none; }
.appendix { break-before: page; }
"""
DOSSIER_CSP = ("default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'" % base64.b64encode(hashlib.sha256(DOSSIER_CSS.encode()).digest()
                                                                        ).decode())


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=PackageLoader("service", "templates"), autoescape=select_autoescape(["html"]))


def dossier_html(dossier: dict[str, Any], now: datetime, integrity: Integrity | None = None) -> str:
    """The dossier as one self-contained HTML page (no scripts, no fonts or images fetched)."""
    return _templates().get_template("dossier.html").render(css=DOSSIER_CSS,
                                                            **dossier_context(dossier, now, integrity))


def dossier_pdf(dossier: dict[str, Any], now: datetime, integrity: Integrity | None = None) -> bytes:
    """The same dossier as an A4 PDF with numbered pages, through WeasyPrint."""
    from weasyprint import HTML  # imported here: it loads Pango, which the rest of the service never needs
    from weasyprint.urls import URLFetcher

    # Nothing is fetched while rendering: the page needs nothing outside itself, and a server must not be made to
    # request URLs on anyone's behalf (source links stay links).
    return HTML(string=dossier_html(dossier, now, integrity), url_fetcher=URLFetcher(allowed_protocols=())
                ).write_pdf()
