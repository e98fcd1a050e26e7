"""A Merkle tree over the journal's entries in the manner of certificate transparency (RFC 9162,
section 2.1): the tree hash of a list of leaves, inclusion proofs and consistency proofs, and
their verification. Pure: bytes in, bytes out.

A leaf is the 32 bytes of an entry's chain hash; the tree hashes it as
``SHA-256(0x00 || leaf)`` and an inner node as ``SHA-256(0x01 || left || right)``, the left
subtree always the largest power of two smaller than the whole. The two prefixes keep a leaf
from ever passing for an inner node (second-preimage attacks)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The tree hash of the leaves (already leaf-hashed). Built bottom-up, an odd node carried
    up unpaired: the same tree as RFC 9162's recursive definition, without the recursion."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``leaf_hashes`` (RFC 9162 2.1.3.1)."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaf_hashes)}")
    path: list[bytes] = []
    leaves = leaf_hashes
    while len(leaves) > 1:
        k = _split(len(leaves))
        if index < k:
            path.append(root(leaves[k:]))
            leaves = leaves[:k]
        else:
            path.append(root(leaves[:k]))
            leaves, index = leaves[k:], index - k
    return path[::-1]


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The proof that the tree of the first ``old_size`` leaves is a prefix of the tree of all
    of them (RFC 9162 2.1.4.1); empty when there is nothing to prove."""
    if not 0 <= old_size <= len(leaf_hashes):
        raise ValueError(f"a tree of {old_size} is not a prefix of one of {len(leaf_hashes)}")
    if old_size in (0, len(leaf_hashes)):
        return []
    return _subproof(old_size, leaf_hashes, complete=True)


def _subproof(m: int, leaves: Sequence[bytes], *, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete=complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], complete=False), root(leaves[:k])]


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """Whether ``leaf`` (leaf-hashed) sits at ``index`` of the tree of ``size`` leaves whose
    hash is ``expected_root`` (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether the tree of ``new_size`` leaves (``new_root``) extends the one of ``old_size``
    (``old_root``) without changing any of its leaves (RFC 9162 2.1.4.2)."""
    if old_size == 0:
        return not proof
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size > new_size or not proof:
        return False
    nodes = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old tree is a subtree itself
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
