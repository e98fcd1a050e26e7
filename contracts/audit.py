"""Events of ``audit.checkpoints``: the audit service's signed commitments to its journal.

Nothing of the platform needs them to work; they are published so that other services and an
archive outside the audit database hold copies, against which anyone can later check the
journal (``python -m services.audit.verify offline``).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from contracts.envelope import Contract, Envelope, ShortText, Topic

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
#: A UTC time with microseconds, as text: it is signed as written, so it travels as written.
SignedTime = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$",
        examples=["2026-12-01T23:00:00.000000Z"],
    ),
]


class CheckpointLeaf(Contract):
    """One journal entry's place in the tree: its order, sequence number and chain hash."""

    order_id: UUID
    seq: int = Field(ge=1)
    entry_hash: Sha256Hex


class JournalCheckpointedData(Contract):
    """A signed tree head over the first ``tree_size`` journal entries (RFC 9162 Merkle tree,
    leaf = the 32 bytes of an entry's chain hash), with the proof that it extends the previous
    checkpoint and the leaves added since then."""

    tree_size: int = Field(ge=1)
    root_hash: Sha256Hex
    issued_at: SignedTime
    key_id: ShortText
    """The first 16 hex digits of SHA-256 of the raw Ed25519 public key that signed."""
    signature: Annotated[str, Field(pattern=r"^[0-9a-f]{128}$")]
    """Ed25519 over the canonical JSON of ``issued_at``, ``key_id``, ``log``, ``purpose``,
    ``root_hash`` and ``tree_size`` (see docs/journal-proofs.md)."""
    previous_size: int = Field(ge=0)
    """The tree size of the checkpoint before this one (0 for the first)."""
    consistency_proof: list[Sha256Hex]
    """RFC 9162 consistency proof from ``previous_size`` to ``tree_size``."""
    leaves: list[CheckpointLeaf]
    """The leaves ``previous_size`` .. ``tree_size - 1``, in tree order."""


class JournalCheckpointed(Envelope[JournalCheckpointedData]):
    """``journal.checkpointed``: the journal committed to everything journaled so far."""

    type: Literal["journal.checkpointed"] = "journal.checkpointed"
    version: Literal[1] = 1


AUDIT = Topic("audit.checkpoints", JournalCheckpointed)
