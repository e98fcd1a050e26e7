"""The Merkle tree against RFC 9162's recursive definition, and its proofs: every honest one
verifies, every altered one fails."""

from __future__ import annotations

import hashlib

import pytest

from services.audit import merkle


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH as RFC 9162 2.1.1 defines it, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
    ).digest()


def data(n: int) -> list[bytes]:
    return [hashlib.sha256(str(i).encode()).digest() for i in range(n)]


@pytest.mark.parametrize("n", range(0, 34))
def test_root_inclusion_and_consistency_for_every_size(n: int) -> None:
    leaves = data(n)
    hashed = [merkle.leaf_hash(leaf) for leaf in leaves]
    root = merkle.root(hashed)
    assert root == reference_root(leaves)
    for i in range(n):
        path = merkle.inclusion_proof(i, hashed)
        assert merkle.verify_inclusion(i, n, hashed[i], path, root)
        other = hashed[(i + 1) % n]
        assert n == 1 or not merkle.verify_inclusion(i, n, other, path, root)
    for old in range(0, n + 1):
        proof = merkle.consistency_proof(old, hashed)
        old_root = merkle.root(hashed[:old])
        assert merkle.verify_consistency(old, n, old_root, root, proof)
        if 0 < old < n:
            rewritten = merkle.root([hashed[0][::-1], *hashed[1:old]])
            assert not merkle.verify_consistency(old, n, rewritten, root, proof)
            assert not merkle.verify_consistency(old, n, old_root, root[::-1], proof)


def test_a_leaf_cannot_pass_for_an_inner_node() -> None:
    hashed = [merkle.leaf_hash(leaf) for leaf in data(2)]
    assert merkle.root(hashed) != merkle.leaf_hash(hashed[0] + hashed[1])
