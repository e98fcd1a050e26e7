"""Signed checkpoints: what a checkpoint is, how it is made from the journal's leaves, and how
one is checked against a public key and against the checkpoint before it. Pure.

A checkpoint commits to the first ``tree_size`` entries of the journal, in the order the
checkpoint job took them in: the RFC 9162 Merkle tree hash of their chain hashes, signed with
the service's Ed25519 key. Each carries the consistency proof that it extends the previous
one, so nobody can rewrite what an earlier checkpoint covered and keep both verifying."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit import merkle
from services.audit.domain import timestamp
from services.audit.signing import CHECKPOINT, Signer, statement, valid


@dataclass(frozen=True)
class Leaf:
    """An entry's place in the tree: which entry, and the chain hash that is the leaf."""

    order_id: UUID
    seq: int
    entry_hash: str

    @property
    def hashed(self) -> bytes:
        return merkle.leaf_hash(bytes.fromhex(self.entry_hash))

    def as_dict(self) -> dict[str, Any]:
        return {"order_id": str(self.order_id), "seq": self.seq, "entry_hash": self.entry_hash}


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head and the proof that it extends the checkpoint before it."""

    tree_size: int
    root_hash: str
    issued_at: datetime
    key_id: str
    signature: str
    previous_size: int
    consistency_proof: tuple[str, ...]

    def signed_fields(self) -> dict[str, Any]:
        return signed_fields(self.tree_size, self.root_hash, self.issued_at, self.key_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.signed_fields(),
            "signature": self.signature,
            "previous_size": self.previous_size,
            "consistency_proof": list(self.consistency_proof),
        }


def signed_fields(
    tree_size: int, root_hash: str, issued_at: datetime, key_id: str
) -> dict[str, Any]:
    return {
        "tree_size": tree_size,
        "root_hash": root_hash,
        "issued_at": timestamp(issued_at),
        "key_id": key_id,
    }


def make_checkpoint(
    leaves: Sequence[bytes], previous: Checkpoint | None, signer: Signer, now: datetime
) -> Checkpoint:
    """Sign the tree of ``leaves`` (leaf-hashed, every leaf so far) with its consistency proof
    from ``previous``."""
    previous_size = previous.tree_size if previous else 0
    root_hash = merkle.root(leaves).hex()
    fields = signed_fields(len(leaves), root_hash, now, signer.key_id)
    return Checkpoint(
        tree_size=len(leaves),
        root_hash=root_hash,
        issued_at=now,
        key_id=signer.key_id,
        signature=signer.sign(statement(CHECKPOINT, fields)),
        previous_size=previous_size,
        consistency_proof=tuple(p.hex() for p in merkle.consistency_proof(previous_size, leaves)),
    )


def signature_valid(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    return valid(
        public_key, checkpoint.signature, statement(CHECKPOINT, checkpoint.signed_fields())
    )


def extends(checkpoint: Checkpoint, previous: Checkpoint | None) -> bool:
    """Whether ``checkpoint`` proves it extends ``previous`` (the one it names)."""
    if previous is None:
        return checkpoint.previous_size == 0 and not checkpoint.consistency_proof
    return checkpoint.previous_size == previous.tree_size and merkle.verify_consistency(
        previous.tree_size,
        checkpoint.tree_size,
        bytes.fromhex(previous.root_hash),
        bytes.fromhex(checkpoint.root_hash),
        [bytes.fromhex(p) for p in checkpoint.consistency_proof],
    )
