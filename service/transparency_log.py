"""The transparency log's read side: its size, inclusion and consistency proofs, and single leaves (SQL in events/log_tree.py)."""
from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import Engine

from events.log_tree import LogTree, TreeCheck

from .errors import InputError


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in hashes]


def _out_of_range(name: str, message: str) -> InputError:
    return InputError([{"loc": ["query", name], "msg": message, "type": "out_of_range"}])


class TransparencyLog:
    def __init__(self, engine: Engine, tree: LogTree):
        self.engine = engine
        self.tree = tree

    def size(self) -> int:
        with self.engine.connect() as conn:
            return self.tree.size(conn)

    def inclusion(self, index: int, size: int) -> dict[str, Any]:
        """The RFC 6962 audit path of leaf `index` in the tree of `size` leaves, bottom up, base64."""
        with self.engine.connect() as conn:
            current = self.tree.size(conn)
            if not 1 <= size <= current:
                raise _out_of_range("size", f"must be between 1 and the log's size, {current}")
            if index >= size:
                raise _out_of_range("index", f"must be below size ({size})")
            return {"index": index, "size": size, "hashes": _b64(self.tree.inclusion(conn, index, size))}

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        """The RFC 6962 consistency proof from the tree of `old` leaves to the tree of `new` leaves, base64."""
        with self.engine.connect() as conn:
            current = self.tree.size(conn)
            if not 1 <= new <= current:
                raise _out_of_range("new", f"must be between 1 and the log's size, {current}")
            if old > new:
                raise _out_of_range("old", f"must not exceed new ({new})")
            return {"old": old, "new": new, "hashes": _b64(self.tree.consistency(conn, old, new))}

    def leaf(self, index: int) -> dict[str, Any] | None:
        """The leaf's data (the event's canonical bytes, which its chain hash also covers), or None past the end."""
        with self.engine.connect() as conn:
            event = self.tree.leaf(conn, index)
        if event is None:
            return None
        return {"index": index, "data": base64.b64encode(event.canonical()).decode("ascii"),
                "event_id": event.event_id, "case_id": event.stream_id}

    def check(self) -> TreeCheck:
        """The whole tree recomputed from the events and compared with every stored node."""
        with self.engine.connect() as conn:
            return self.tree.check(conn)
