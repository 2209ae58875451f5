"""The blind name index: keyed hashes (HMAC-SHA256) of each case's name keys, so a search never opens a case."""
from __future__ import annotations

import hashlib
import hmac
from typing import Iterable

from sqlalchemy import Connection, delete, insert, select, update

from .name_keys import name_keys, query_keys
from .tables import name_index, name_index_state


class NameIndex:
    """Writes and reads the `name_index` table; the writes take the caller's transaction (the append's)."""

    def __init__(self, key: bytes):
        self._key = key  # derived from the master key for this use alone (PersonalDataCipher.derive_key)

    def digest(self, name_key: str) -> bytes:
        return hmac.new(self._key, name_key.encode(), hashlib.sha256).digest()

    def digests(self, names: Iterable[str]) -> set[bytes]:
        return {self.digest(k) for k in name_keys(names)}

    def replace(self, conn: Connection, case_id: str, names: Iterable[str]) -> int:
        """The case's rows become those of `names` (the person's name and aliases as they now stand)."""
        conn.execute(delete(name_index).where(name_index.c.case_id == case_id))
        rows = [{"case_id": case_id, "hash": h} for h in sorted(self.digests(names))]
        if rows:
            conn.execute(insert(name_index), rows)
        return len(rows)

    @staticmethod
    def remove(conn: Connection, case_id: str) -> None:
        conn.execute(delete(name_index).where(name_index.c.case_id == case_id))

    def find(self, conn: Connection, query: str) -> set[str]:
        """The cases whose names match the search term: each of its parts, or the whole term written together."""
        per_part, whole = query_keys(query)
        part_hashes = [{self.digest(k) for k in keys} for keys in per_part]
        whole_hashes = {self.digest(k) for k in whole}
        wanted = set().union(whole_hashes, *part_hashes)
        if not wanted:
            return set()
        found: dict[str, set[bytes]] = {}
        for case_id, digest in conn.execute(select(name_index.c.case_id, name_index.c.hash)
                                            .where(name_index.c.hash.in_(sorted(wanted)))):
            found.setdefault(case_id, set()).add(bytes(digest))
        return {case_id for case_id, hashes in found.items()
                if hashes & whole_hashes or all(hashes & alternatives for alternatives in part_hashes)}

    @staticmethod
    def complete(conn: Connection) -> bool:
        """False while a database that had cases before the index existed waits for `vigil names reindex`."""
        return bool(conn.execute(select(name_index_state.c.complete).where(name_index_state.c.id == 1)).scalar())

    @staticmethod
    def mark_complete(conn: Connection) -> None:
        conn.execute(update(name_index_state).where(name_index_state.c.id == 1).values(complete=True))
