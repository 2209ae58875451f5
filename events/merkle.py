"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification (pure).

A tree over leaves [lo, hi) is split at the largest power of two below its size. Every subtree a proof or a
root needs is a run of complete, aligned subtrees ("pieces": `(level, index)` covering leaves
[index * 2**level, (index + 1) * 2**level)), so a store that keeps the hash of every complete subtree answers
any root or proof from O(log n) stored hashes. The planning functions here say which ranges and pieces are
needed; `subtree_hash` folds pieces back into a range's hash.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Piece = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [lo, hi)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly below `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


# ---- what a stored tree must keep, and how its hashes combine ----

def completed_pieces(index: int) -> list[Piece]:
    """The complete subtrees that appending leaf `index` finishes, bottom up: the leaf itself, then each parent
    whose right-most leaf it is."""
    pieces = [(0, index)]
    level, position = 0, index
    while position & 1:
        level, position = level + 1, position >> 1
        pieces.append((level, position))
    return pieces


def pieces_of(lo: int, hi: int) -> list[Piece]:
    """[lo, hi) as complete aligned subtrees, left to right (lo must be aligned as RFC 6962's recursion keeps
    it: a multiple of the largest power of two not above hi - lo)."""
    pieces: list[Piece] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo % (1 << level):
            level -= 1
        pieces.append((level, lo >> level))
        lo += 1 << level
    return pieces


def fold_pieces(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its pieces' hashes, left to right: RFC 6962 nests the right-hand parts."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def subtree_hash(lo: int, hi: int, stored: Mapping[Piece, bytes]) -> bytes:
    if lo == hi:
        return EMPTY_ROOT
    return fold_pieces([stored[p] for p in pieces_of(lo, hi)])


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes make the audit path of leaf `index` in a tree of `size`, leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The ranges whose hashes make the RFC 9162 consistency proof from tree size `old` to `new`."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old == 0 or old == new:
        return []
    path: list[Range] = []
    lo, hi, m, whole = 0, new, old, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        path.append((lo, hi))
    path.reverse()
    return path


def pieces_needed(ranges: Sequence[Range]) -> set[Piece]:
    return {p for lo, hi in ranges for p in pieces_of(lo, hi)}


def proof_from(ranges: Sequence[Range], lookup: Callable[[Sequence[Piece]], Mapping[Piece, bytes]]) -> list[bytes]:
    """The proof's hashes for `ranges`, fetching every piece they need in one call to `lookup`."""
    stored = lookup(sorted(pieces_needed(ranges)))
    return [subtree_hash(lo, hi, stored) for lo, hi in ranges]


# ---- the reference computations over a list of leaf hashes (tests, migrations, rebuilding) ----

def root_of(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    size = len(leaves) if size is None else size
    return [root_of(leaves[lo:hi]) for lo, hi in inclusion_ranges(index, size)]


def consistency_proof(leaves: Sequence[bytes], old: int, new: int | None = None) -> list[bytes]:
    new = len(leaves) if new is None else new
    return [root_of(leaves[lo:hi]) for lo, hi in consistency_ranges(old, new)]


# ---- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ----

def _shift_until_set_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while not fn & 1 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_until_set_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    if not 0 <= old <= new or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_until_set_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
