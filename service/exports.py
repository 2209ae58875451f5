"""Rendering a case's dossier (its whole history) as CSV or printable HTML; pure functions of the export."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .web.display import datum, event_name

CSV_COLUMNS = ["position", "log_index", "version", "event_id", "type", "occurred_at", "date_precision", "recorded_at",
               "actor", "data", "source", "retracted_by", "hash"]


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    # Spreadsheet formula injection: a cell must never start a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def events_csv(events: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow([_cell(event[c]) if event[c] is not None else "" for c in CSV_COLUMNS])
    return out.getvalue()


# The dossier is one self-contained file (lawyers save and print it), so its style is inline and the page's
# CSP allows exactly this stylesheet by its hash, and nothing else inline.
DOSSIER_CSS = """body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #111; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .3rem; vertical-align: top; text-align: left; }
.retracted td { text-decoration: line-through; color: #555; }
code { font-size: 11px; word-break: break-all; }
"""
DOSSIER_CSP = ("default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'" % base64.b64encode(hashlib.sha256(DOSSIER_CSS.encode()).digest()
                                                                        ).decode())


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=PackageLoader("service", "templates"), autoescape=select_autoescape(["html"]))


def dossier_html(dossier: dict[str, Any]) -> str:
    return _templates().get_template("dossier.html").render(d=dossier, css=DOSSIER_CSS,
                                                            words=lambda v: datum(v, "UTC"),
                                                            name=lambda summary: event_name(summary, "UTC"))
