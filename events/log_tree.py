"""The transparency log's storage: every event a leaf of one RFC 6962 Merkle tree whose complete subtrees are kept.

Leaf `i` is the event whose `log_index` is `i`; its hash is `merkle.leaf_hash` of the event's canonical bytes
(the bytes its chain hash covers). `log_nodes(tree_size, level, idx, hash)` keeps the hash of every complete subtree
(`merkle.completed_pieces`), written in the append's own transaction under the lock that orders appends, so the
root of any size and any proof come from O(log n) stored hashes. A node is keyed by the tree size at which it is
complete, `(idx + 1) << level`, then its level: the nodes one leaf finishes are neighbours in the key.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from sqlalchemy import Connection, select

from . import merkle
from .fastsql import Raw, multi_row_sql, positional
from .records import StoredEvent
from .tables import events as events_table, log_nodes

Node = tuple[int, int, bytes]  # (level, idx, hash)

NEXT_INDEX = "SELECT COALESCE(MAX(log_index), -1) + 1 AS i FROM events"  # the unique index answers it
STORED_SIZE = "SELECT MAX(tree_size) FROM log_nodes"  # the key's first column: one step down the b-tree
# SQLite (0026): log_nodes is keyed by node_key = (tree_size << 6) + level, its INTEGER PRIMARY KEY (the rowid; a
# CHECK holds it to that), so an append's nodes go at the right edge of an integer-keyed b-tree, which SQLite
# extends by a fresh page when the last is full. Keyed by (tree_size, level) WITHOUT ROWID (an index b-tree), it
# rebalanced its last three pages every few appends (4 to 5 pages written in one commit of 8).
LEVEL_BITS = 6  # levels 0 .. 63: more than any 64-bit leaf count needs
STORED_SIZE_SQLITE = f"SELECT MAX(node_key) >> {LEVEL_BITS} FROM log_nodes"
CHECK_BATCH = 5000


class LogCorrupt(Exception):
    """The stored tree lacks a subtree that its size says must exist."""


class Frontier:
    """The right edge of a tree being built leaf by leaf: the hashes of its complete subtrees, largest first (pure).

    Adding leaf `n` finishes exactly `merkle.completed_pieces(n)`: the leaf, then each parent whose left half is
    the frontier's last subtree of the same height."""

    def __init__(self, size: int = 0, edge: Sequence[tuple[int, bytes]] = ()):
        self.size = size
        self.edge = list(edge)  # (level, hash) of pieces_of(0, size), left to right

    def add(self, leaf: bytes) -> list[Node]:
        index, node, level = self.size, leaf, 0
        finished = [(0, index, leaf)]
        while self.edge and self.edge[-1][0] == level:
            node = merkle.node_hash(self.edge.pop()[1], node)
            level += 1
            finished.append((level, index >> level, node))
        self.edge.append((level, node))
        self.size += 1
        return finished

    def root(self) -> bytes:
        return merkle.fold_pieces([h for _, h in self.edge]) if self.edge else merkle.EMPTY_ROOT

    def copy(self) -> "Frontier":
        return Frontier(self.size, self.edge)


def tree_size(level: int, idx: int) -> int:
    """The size of the tree in which node (level, idx) is first complete: the first column of its key."""
    return (idx + 1) << level


def node_key(tree_size: int, level: int) -> int:
    """SQLite: the node_key of the node complete at `tree_size` on `level` (see LEVEL_BITS)."""
    return (tree_size << LEVEL_BITS) + level


def node_rows(nodes: Sequence[Node]) -> list[tuple[int, int, int, bytes]]:
    """(tree_size, level, idx, hash) rows for INSERT_NODE, in its column order."""
    return [((idx + 1) << level, level, idx, digest) for level, idx, digest in nodes]


def node_rows_sqlite(nodes: Sequence[Node]) -> list[tuple[int, int, int, int, bytes]]:
    """(node_key, tree_size, level, idx, hash) rows for INSERT_NODE_SQLITE."""
    return [((((idx + 1) << level) << LEVEL_BITS) + level, (idx + 1) << level, level, idx, digest)
            for level, idx, digest in nodes]


INSERT_NODE = "INSERT INTO log_nodes (tree_size, level, idx, hash) VALUES (:s, :l, :i, :h)"
INSERT_NODE_SQLITE = "INSERT INTO log_nodes (node_key, tree_size, level, idx, hash) VALUES (:k, :s, :l, :i, :h)"


@lru_cache(maxsize=128)
def _lookup_sql(count: int) -> str:
    terms = " OR ".join(f"(tree_size = :s{i} AND level = :l{i})" for i in range(count))
    return f"SELECT level, idx, hash FROM log_nodes WHERE {terms}"


@lru_cache(maxsize=128)
def _lookup_sql_sqlite(count: int) -> str:
    return f"SELECT level, idx, hash FROM log_nodes WHERE node_key IN ({', '.join('?' * count)})"


@lru_cache(maxsize=128)
def _insert_sql(count: int) -> str:
    values = ", ".join(f"(:s{i}, :l{i}, :i{i}, :h{i})" for i in range(count))
    return f"INSERT INTO log_nodes (tree_size, level, idx, hash) VALUES {values}"


def _node_params(nodes: Sequence[Node]) -> dict[str, object]:
    params: dict[str, object] = {}
    for i, (level, idx, digest) in enumerate(nodes):
        params[f"s{i}"], params[f"l{i}"], params[f"i{i}"], params[f"h{i}"] = (idx + 1) << level, level, idx, digest
    return params


@lru_cache(maxsize=128)
def planned_nodes_sql(count: int) -> str:
    """PostgreSQL: insert `count` nodes only if the common table `next` says the leaf lands at `:planned`."""
    values = ", ".join(f"(CAST(:s{i} AS bigint), CAST(:l{i} AS smallint), CAST(:i{i} AS bigint), "
                       f"CAST(:h{i} AS bytea))" for i in range(count))
    return ("INSERT INTO log_nodes (tree_size, level, idx, hash) SELECT v.tree_size, v.level, v.idx, v.hash FROM "
            f"(VALUES {values}) AS v(tree_size, level, idx, hash), next WHERE next.i = :planned")


def read_pieces(raw: Raw, pieces: Sequence[merkle.Piece]) -> dict[merkle.Piece, bytes]:
    """The stored hashes of `pieces`, in one statement; LogCorrupt if any is missing."""
    if not pieces:
        return {}
    if not raw.postgres:
        keys = [node_key((idx + 1) << level, level) for level, idx in pieces]
        found = {(row[0], row[1]): bytes(row[2]) for row in raw.all(_lookup_sql_sqlite(len(keys)), keys)}
        missing = [p for p in pieces if p not in found]
        if missing:
            raise LogCorrupt(f"the stored tree has no node at level {missing[0][0]}, index {missing[0][1]}")
        return found
    params: dict[str, int] = {}
    for i, (level, idx) in enumerate(pieces):
        params[f"s{i}"], params[f"l{i}"] = (idx + 1) << level, level
    found = {(row[0], row[1]): bytes(row[2]) for row in raw.all(_lookup_sql(len(pieces)), params)}
    missing = [p for p in pieces if p not in found]
    if missing:
        raise LogCorrupt(f"the stored tree has no node at level {missing[0][0]}, index {missing[0][1]}")
    return found


def stored_size(raw: Raw) -> int:
    last = raw.one(STORED_SIZE if raw.postgres else STORED_SIZE_SQLITE)
    return 0 if last is None or last[0] is None else last[0]


@dataclass(frozen=True)
class TreeCheck:
    ok: bool
    size: int
    root: bytes
    problem: str | None = None


class LogTree:
    """The Merkle log on a database: extended inside each append, read for roots, proofs and leaves."""

    def __init__(self) -> None:
        # The right edge after the last append this process committed; only ever set after a commit, so an
        # append that rolled back never leaves its leaves here.
        self._frontier: Frontier | None = None
        # Within a group commit's transaction: the edge after the batch's appends so far (see `stage`).
        self._staged: Frontier | None = None

    # ---- in the append's transaction, under the lock that orders appends ----
    def extend(self, raw: Raw, first_index: int, canonicals: Sequence[bytes]) -> Frontier:
        """Write the leaves of the events just inserted at `first_index`, `first_index + 1`, ... and every subtree
        they finish; returns the new right edge, for `remember` once the append has committed."""
        known = self._staged or self._frontier
        if known is not None and known.size == first_index:
            frontier = Frontier(known.size, known.edge)  # a copy: this append may yet roll back
        else:  # first append of this process, or another process appended since
            pieces = merkle.pieces_of(0, first_index)
            stored = read_pieces(raw, pieces)
            frontier = Frontier(first_index, [(level, stored[(level, idx)]) for level, idx in pieces])
        nodes: list[Node] = []
        for data in canonicals:
            nodes.extend(frontier.add(merkle.leaf_hash(data)))
        # Bound by position: one flat list, no parameter names made and looked up per node.
        if raw.postgres:
            raw.run(positional(_insert_sql(len(nodes)), True),
                    [value for level, idx, digest in nodes for value in ((idx + 1) << level, level, idx, digest)])
        else:
            raw.run(multi_row_sql(INSERT_NODE_SQLITE, len(nodes)), [value for row in node_rows_sqlite(nodes) for value in row])
        return frontier

    def extend_many(self, raw: Raw, first_index: int, canonicals: Sequence[bytes]) -> Frontier:
        """As `extend`, for a bulk load: the nodes go in as few statements as the database allows (one multi-row
        statement for them all would pass its limit on bound parameters: see `Raw.insert_rows`)."""
        known = self._frontier
        if known is not None and known.size == first_index:
            frontier = Frontier(known.size, known.edge)
        else:
            pieces = merkle.pieces_of(0, first_index)
            stored = read_pieces(raw, pieces)
            frontier = Frontier(first_index, [(level, stored[(level, idx)]) for level, idx in pieces])
        leaf_hash, add = merkle.leaf_hash, frontier.add
        nodes = [node for data in canonicals for node in add(leaf_hash(data))]
        if raw.postgres:
            raw.insert_rows(INSERT_NODE, node_rows(nodes))
        else:
            raw.insert_rows(INSERT_NODE_SQLITE, node_rows_sqlite(nodes))
        return frontier

    def next_index(self) -> int | None:
        """The next leaf's index as this process knows the tree (the batch's staged edge, else the last committed
        one), or None if it does not. Exact only while nobody else has appended since (the caller's to know: on
        SQLite, `EventStore._others_wrote`); the unique index on log_index refuses a stale one."""
        known = self._staged or self._frontier
        return known.size if known is not None else None

    def forget(self) -> None:
        """Someone else may have appended: the next append reads the tree's edge from the database."""
        self._frontier = None

    def planned(self) -> Frontier | None:
        """A copy of the committed right edge, to plan the next leaf at its size (see `insert_planned`)."""
        known = self._staged or self._frontier
        return known.copy() if known is not None else None

    def stage(self, frontier: Frontier) -> None:
        """Within a batch's transaction, once an append's savepoint is released: the next append of the batch
        extends the tree from this edge, though it is not yet committed. Only the leader of a batch calls it."""
        self._staged = frontier

    def unstage(self) -> None:
        """The batch has committed or rolled back: what counts again is what `remember` was told."""
        self._staged = None

    def insert_planned(self, raw: Raw, event_sql: str, params: dict[str, object], frontier: Frontier,
                       canonical: bytes, next_sql: str = NEXT_INDEX):
        """PostgreSQL, one round trip: the event row (`event_sql`, an INSERT ... SELECT ... FROM next WHERE
        next.i = :planned RETURNING position, log_index) and the subtrees its leaf finishes, both written only
        if the leaf lands where `frontier` plans it. Returns the row, `frontier` moved on; None (and nothing
        written) if another process appended since this one last committed, or if `next_sql` (the next index,
        as NEXT_INDEX reads it, or no row if the caller's own condition fails) answers no row."""
        moved = frontier.copy()
        nodes = moved.add(merkle.leaf_hash(canonical))
        sql = f"WITH next AS ({next_sql}), nodes AS ({planned_nodes_sql(len(nodes))}) {event_sql}"
        row = raw.one(sql, {**params, **_node_params(nodes), "planned": frontier.size})
        if row is not None:
            frontier.size, frontier.edge = moved.size, moved.edge
        return row

    def remember(self, frontier: Frontier) -> None:
        """After the commit: the edge of a tree the database now holds. Trees only grow, so while the stored size
        is still this edge's, it is the stored tree's edge; a stale one is told by its size (see `extend`)."""
        self._frontier = frontier

    # ---- reading, on any connection ----
    def size(self, conn: Connection) -> int:
        return stored_size(Raw(conn))

    def root(self, conn: Connection, size: int) -> bytes:
        pieces = merkle.pieces_of(0, size)
        stored = read_pieces(Raw(conn), pieces)
        return merkle.fold_pieces([stored[p] for p in pieces]) if pieces else merkle.EMPTY_ROOT

    def inclusion(self, conn: Connection, index: int, size: int) -> list[bytes]:
        """The audit path of leaf `index` in the tree of `size` (which must not exceed the stored size)."""
        return merkle.proof_from(merkle.inclusion_ranges(index, size), lambda p: read_pieces(Raw(conn), p))

    def consistency(self, conn: Connection, old: int, new: int) -> list[bytes]:
        return merkle.proof_from(merkle.consistency_ranges(old, new), lambda p: read_pieces(Raw(conn), p))

    def leaf(self, conn: Connection, index: int) -> StoredEvent | None:
        """The event at `index`, or None."""
        found = _events_from(conn, index, index + 1)
        return found[0] if found else None

    # ---- the full check ----
    def check(self, conn: Connection) -> TreeCheck:
        """Recompute the tree from the events and compare it with every stored node; name the first difference."""
        return check_tree(conn)


def _events_from(conn: Connection, lo: int, hi: int) -> list[StoredEvent]:
    from .store import row_to_event  # here, not at the top: the store imports this module

    e = events_table.c
    query = select(events_table).where(e.log_index >= lo, e.log_index < hi).order_by(e.log_index)
    return [row_to_event(r) for r in conn.execute(query)]


def _nodes_completed(conn: Connection, lo: int, hi: int) -> dict[tuple[int, int], bytes]:
    """The stored nodes completed by leaves lo .. hi - 1 (tree sizes lo + 1 .. hi), by (level, idx)."""
    n = log_nodes.c
    if conn.dialect.name == "sqlite":  # by its key (see LEVEL_BITS): tree sizes lo + 1 .. hi
        rows = conn.execute(select(n.level, n.idx, n.hash).where(n.node_key >= node_key(lo + 1, 0),
                                                                 n.node_key < node_key(hi + 1, 0)))
    else:
        rows = conn.execute(select(n.level, n.idx, n.hash).where(n.tree_size > lo, n.tree_size <= hi))
    return {(r.level, r.idx): bytes(r.hash) for r in rows}


def check_tree(conn: Connection) -> TreeCheck:
    """The full check (cold: `vigil verify`), on SQLAlchemy statements with named columns: every leaf hashed again
    from its event, and every node above it recomputed from those leaves, against what is stored, in one pass in
    the order the nodes were written."""
    e = events_table
    raw = Raw(conn)
    size = stored_size(raw)
    unindexed = conn.execute(select(e.c.position).where(e.c.log_index.is_(None)).order_by(e.c.position)
                             .limit(1)).scalar()
    if unindexed is not None:
        return TreeCheck(False, size, b"", f"the event at position {unindexed} has no log_index: it is not "
                                          "in the log")
    frontier = Frontier()
    for lo in range(0, size, CHECK_BATCH):
        hi = min(size, lo + CHECK_BATCH)
        events = _events_from(conn, lo, hi)
        stored = _nodes_completed(conn, lo, hi)
        for expected, event in enumerate(events, lo):
            if event.log_index != expected:
                return TreeCheck(False, size, b"", f"log_index {expected} is missing: the log has a gap")
            finished = frontier.add(merkle.leaf_hash(event.canonical()))
            if stored.get((0, expected)) != finished[0][2]:
                return TreeCheck(False, size, b"", f"leaf {expected} (event {event.event_id} of case "
                                                   f"{event.stream_id}) does not match the stored tree")
            for level, idx, digest in finished[1:]:  # above leaves already found to match their events
                if stored.get((level, idx)) != digest:
                    return TreeCheck(False, size, b"", f"the stored node at level {level}, index {idx} does not "
                                                       "match the leaves under it")
        if len(events) < hi - lo:
            return TreeCheck(False, size, b"", f"log_index {lo + len(events)} is missing: the log has a gap")
    beyond = conn.execute(select(e.c.log_index).where(e.c.log_index >= size).order_by(e.c.log_index)
                          .limit(1)).scalar()
    # An append that committed since `size` was read wrote its event and its leaf together: not a fault.
    if beyond is not None and stored_size(raw) == size:
        problem = (f"log_index {size} is missing: the log has a gap" if beyond > size else
                   f"the event at log_index {size} has no leaf in the stored tree")
        return TreeCheck(False, size, b"", problem)
    return TreeCheck(True, size, frontier.root())


def recomputed_root(conn: Connection, size: int) -> bytes | None:
    """The root of the first `size` leaves, hashed again from the events themselves (not from stored nodes, which
    whoever rewrote an event could have recomputed too); None if the log holds fewer events or has a gap."""
    frontier = Frontier()
    for lo in range(0, size, CHECK_BATCH):
        hi = min(size, lo + CHECK_BATCH)
        events = _events_from(conn, lo, hi)
        if [e.log_index for e in events] != list(range(lo, hi)):
            return None
        for event in events:
            frontier.add(merkle.leaf_hash(event.canonical()))
    return frontier.root()
