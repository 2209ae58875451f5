"""Rendering a case's dossier (its whole history) as CSV or printable HTML; pure functions of the export."""
from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

CSV_COLUMNS = ["position", "version", "event_id", "type", "occurred_at", "date_precision", "recorded_at",
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


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=PackageLoader("service", "templates"), autoescape=select_autoescape(["html"]))


def dossier_html(dossier: dict[str, Any]) -> str:
    return _templates().get_template("dossier.html").render(d=dossier, dumps=lambda v: json.dumps(
        v, ensure_ascii=False, sort_keys=True))
