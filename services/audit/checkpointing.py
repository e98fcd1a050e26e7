"""Use cases of the Merkle tree: make a signed checkpoint, prove an entry's inclusion, export
the whole journal and every checkpoint for verification outside the service.

Each takes a unit of work and never commits. The tree is built from stored chain hashes, in
batches, by the checkpoint job (or a staff request): journaling an event does no tree work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from contracts import SYSTEM_ACTOR, CheckpointLeaf, JournalCheckpointed, JournalCheckpointedData
from services.audit import merkle
from services.audit.checkpoints import Checkpoint, Leaf, make_checkpoint
from services.audit.domain import EntryKind, timestamp
from services.audit.errors import EntryNotCheckpointed, JournalNotFound
from services.audit.journal import readable_journal
from services.audit.lines import entry_line
from services.audit.repository import JournalRepository, StoredEntry
from services.audit.signing import Signer
from services.audit.tree_repository import TreeRepository
from services.kit.auth import Principal
from services.kit.db import UnitOfWork

#: The most entries one checkpoint adds: its event lists them and stays well under Kafka's
#: message size; the job runs again at once while more are waiting.
MAX_NEW_LEAVES = 2000


async def checkpoint(
    work: UnitOfWork, *, signer: Signer, now: datetime, max_new: int = MAX_NEW_LEAVES
) -> tuple[Checkpoint | None, int]:
    """Place the entries journaled since the last checkpoint in the tree and sign the new tree
    head, published on ``audit.checkpoints`` with the new leaves. Returns the latest
    checkpoint (None while the journal is empty) and how many entries it added."""
    tree = TreeRepository(work.session)
    await tree.hold_checkpoint_lock()
    previous = await tree.latest()
    size = await tree.size()
    new = await tree.unplaced(max_new)
    if not new and (previous is None or previous.tree_size == size):
        return previous, 0
    await tree.place(size, new)
    leaves = [*await tree.leaves(0, size), *new]
    made = make_checkpoint([leaf.hashed for leaf in leaves], previous, signer, now)
    await tree.add_checkpoint(made)
    since = leaves[previous.tree_size if previous else 0 :]
    work.publish(checkpointed(made, since, now))
    return made, len(new)


def checkpointed(made: Checkpoint, leaves: list[Leaf], now: datetime) -> JournalCheckpointed:
    return JournalCheckpointed(
        occurred_at=now,
        producer="audit",
        correlation_id=uuid4(),
        actor=SYSTEM_ACTOR,
        data=JournalCheckpointedData(
            tree_size=made.tree_size,
            root_hash=made.root_hash,
            issued_at=timestamp(made.issued_at),
            key_id=made.key_id,
            signature=made.signature,
            previous_size=made.previous_size,
            consistency_proof=list(made.consistency_proof),
            leaves=[
                CheckpointLeaf(order_id=leaf.order_id, seq=leaf.seq, entry_hash=leaf.entry_hash)
                for leaf in leaves
            ],
        ),
    )


async def checkpoints_with_leaves(work: UnitOfWork) -> list[dict[str, Any]]:
    """Every checkpoint, oldest first, each with the leaves it added: what an archive of
    ``audit.checkpoints`` holds, and what ``verify offline`` reads."""
    tree = TreeRepository(work.session)
    made = await tree.all()
    leaves = await tree.leaves(0, made[-1].tree_size) if made else []
    return [
        {
            **c.as_dict(),
            "leaves": [leaf.as_dict() for leaf in leaves[c.previous_size : c.tree_size]],
        }
        for c in made
    ]


async def whole_journal(work: UnitOfWork) -> list[dict[str, Any]]:
    """Every entry of every order as export lines, with its place in the tree when it has one."""
    placed = {
        (leaf.order_id, leaf.seq): n
        for n, leaf in enumerate(await TreeRepository(work.session).leaves())
    }
    entries = await JournalRepository(work.session).every_entry()
    return [entry_line(e, placed.get((e.entry.content.order_id, e.entry.seq))) for e in entries]


@dataclass(frozen=True)
class EntryProof:
    """An entry, its place in a checkpoint's tree and the audit path to the tree's root."""

    entry: StoredEntry
    leaf_index: int
    checkpoint: Checkpoint
    path: list[str]


async def entry_proof(
    work: UnitOfWork, *, order_id: UUID, seq: int, viewer: Principal, tree_size: int | None
) -> EntryProof:
    """The proof that an entry the viewer may read is in a checkpoint (the latest, or the one
    of ``tree_size``)."""
    await readable_journal(work, order_id=order_id, viewer=viewer)
    stored = await JournalRepository(work.session).entry(order_id, seq)
    content = None if stored is None else stored.entry.content
    hidden = (
        content is not None
        and not viewer.is_staff
        and (content.kind is EntryKind.STAFF and not content.visible_to_customer)
    )
    if stored is None or hidden:
        raise JournalNotFound(f"No entry {seq} in the journal of order {order_id}")
    tree = TreeRepository(work.session)
    index = await tree.leaf_index(order_id, seq)
    signed = await (tree.latest() if tree_size is None else tree.checkpoint(tree_size))
    if index is None or signed is None or signed.tree_size <= index:
        raise EntryNotCheckpointed(f"Entry {seq} is not in a checkpoint yet")
    leaves = [leaf.hashed for leaf in await tree.leaves(0, signed.tree_size)]
    path = [node.hex() for node in merkle.inclusion_proof(index, leaves)]
    return EntryProof(stored, index, signed, path)
