"""RFC 6962 hashing and proofs: the Certificate Transparency test vectors, and properties over random trees."""
from __future__ import annotations

import hashlib

from hypothesis import given, settings, strategies as st

from events import merkle

# The Certificate Transparency reference leaves and tree heads (used by RFC 6962 implementations'
# test suites, e.g. transparency-dev/merkle): data only.
CT_DATA = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                       "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
CT_LEAVES = [merkle.leaf_hash(d) for d in CT_DATA]


def _hexes(*values: str) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


CT_INCLUSION = {
    (0, 8): _hexes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                   "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    (5, 8): _hexes("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                   "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
}
CT_CONSISTENCY = {
    (2, 8): _hexes("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                   "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    (6, 8): _hexes("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                   "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    (2, 5): _hexes("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                   "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
}


def test_roots_match_the_reference_for_every_size():
    assert merkle.EMPTY_ROOT == CT_ROOTS[0]
    for size in range(len(CT_LEAVES) + 1):
        assert merkle.root_of(CT_LEAVES[:size]) == CT_ROOTS[size], size


def test_inclusion_proofs_match_the_reference():
    for (index, size), expected in CT_INCLUSION.items():
        assert merkle.inclusion_proof(CT_LEAVES, index, size) == expected
        assert merkle.verify_inclusion(CT_LEAVES[index], index, size, expected, CT_ROOTS[size])


def test_consistency_proofs_match_the_reference():
    for (old, new), expected in CT_CONSISTENCY.items():
        assert merkle.consistency_proof(CT_LEAVES, old, new) == expected
        assert merkle.verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], expected)


def _stored(leaves: list[bytes]) -> dict[merkle.Piece, bytes]:
    """Every complete subtree, kept as an appending store keeps them."""
    stored: dict[merkle.Piece, bytes] = {}
    for index, leaf in enumerate(leaves):
        for level, position in merkle.completed_pieces(index):
            stored[(level, position)] = leaf if level == 0 else node_hash_of(stored, level, position)
    return stored


def node_hash_of(stored: dict, level: int, position: int) -> bytes:
    return merkle.node_hash(stored[(level - 1, 2 * position)], stored[(level - 1, 2 * position + 1)])


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


def _flip(proof: list[bytes], at: int) -> list[bytes]:
    changed = list(proof)
    changed[at] = bytes([changed[at][0] ^ 1]) + changed[at][1:]
    return changed


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_inclusion_proof_checks_and_every_altered_one_fails(size, data):
    leaves = _leaves(size)
    root = merkle.root_of(leaves)
    index = data.draw(st.integers(0, size - 1))
    stored = _stored(leaves)
    proof = merkle.proof_from(merkle.inclusion_ranges(index, size), lambda pieces: stored)
    assert proof == merkle.inclusion_proof(leaves, index)
    assert merkle.subtree_hash(0, size, stored) == root
    assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    if proof:
        assert not merkle.verify_inclusion(leaves[index], index, size, _flip(proof, data.draw(
            st.integers(0, len(proof) - 1))), root)
        assert not merkle.verify_inclusion(leaves[index], index, size, proof[:-1], root)
    assert not merkle.verify_inclusion(leaves[index], index, size, proof + [bytes(32)], root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"other"), index, size, proof, root)
    if size > 1:
        other = (index + 1) % size
        assert not merkle.verify_inclusion(leaves[index], other, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_consistency_proof_checks_and_every_altered_one_fails(new, data):
    old = data.draw(st.integers(0, new))
    leaves = _leaves(new)
    old_root, new_root = merkle.root_of(leaves[:old]), merkle.root_of(leaves)
    stored = _stored(leaves)
    proof = merkle.proof_from(merkle.consistency_ranges(old, new), lambda pieces: stored)
    assert proof == merkle.consistency_proof(leaves, old, new)
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
    if proof:
        assert not merkle.verify_consistency(old, new, old_root, new_root, _flip(proof, data.draw(
            st.integers(0, len(proof) - 1))))
        assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not merkle.verify_consistency(old, new, old_root, new_root, proof + [bytes(32)])
    if 0 < old < new:
        rewritten = list(leaves)
        rewritten[data.draw(st.integers(0, old - 1))] = merkle.leaf_hash(b"rewritten")
        assert not merkle.verify_consistency(old, new, merkle.root_of(rewritten[:old]), new_root, proof)
        assert not merkle.verify_consistency(old, new, old_root, merkle.root_of(rewritten), proof)


def test_a_proof_needs_only_logarithmically_many_stored_hashes():
    size = 2_000_000
    for index in (0, 1, 999_999, 1_048_575, 1_048_576, size - 1):
        assert len(merkle.pieces_needed(merkle.inclusion_ranges(index, size))) <= 2 * size.bit_length()
    assert len(merkle.pieces_needed(merkle.consistency_ranges(1_234_567, size))) <= 2 * size.bit_length()
    assert len(merkle.pieces_of(0, size)) == bin(size).count("1")
