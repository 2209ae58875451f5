"""The framework's floor for the HTTP row: a minimal FastAPI app whose one endpoint validates the same body as
Vigil's append and inserts one row into a SQLite file (WAL, synchronous=FULL, as Vigil's), served by uvicorn as
`vigil serve` is.

    MINIMAL_DB=/tmp/x.db .venv/bin/python -m bench.minimal_app PORT
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class EventIn(BaseModel):
    type: str
    occurred_at: datetime
    data: dict[str, Any]


def create_app(path: str) -> FastAPI:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS events (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, "
               "type TEXT NOT NULL, occurred_at TEXT NOT NULL, data TEXT NOT NULL)")
    lock = threading.Lock()  # one connection, one writer at a time (as SQLite allows anyway)
    app = FastAPI()

    @app.post("/v1/cases/{case_id}/events", status_code=201)
    def append(case_id: str, body: EventIn) -> dict[str, int]:
        with lock:
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute("INSERT INTO events (stream_id, type, occurred_at, data) VALUES (?, ?, ?, ?)",
                                (case_id, body.type, body.occurred_at.isoformat(), json.dumps(body.data)))
            db.execute("COMMIT")
        return {"position": cursor.lastrowid}

    @app.get("/readyz")
    def ready() -> dict[str, str]:
        return {"status": "ok"}
    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(os.environ["MINIMAL_DB"]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
