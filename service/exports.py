"""A case's whole history as CSV for spreadsheets; a pure function of the export (the dossier: service/dossier.py)."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

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
