"""Every SQL statement about the Merkle tree: its leaves and its signed checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Row, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit.checkpoints import Checkpoint, Leaf
from services.audit.tables import checkpoints, journal_entries, journal_leaves

#: One checkpoint is made at a time (the job or a staff request), whichever replica runs it.
CHECKPOINT_LOCK = 0x0A_0D_17_C4_EC_C0


class TreeRepository:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def hold_checkpoint_lock(self) -> None:
        """Wait for, then hold until the transaction ends, the one right to make checkpoints."""
        await self.session.execute(select(func.pg_advisory_xact_lock(CHECKPOINT_LOCK)))

    async def size(self) -> int:
        """How many entries the tree holds."""
        found = await self.session.scalar(select(func.max(journal_leaves.c.leaf_index)))
        return 0 if found is None else int(found) + 1

    async def unplaced(self, limit: int) -> list[Leaf]:
        """Entries not in the tree yet, in the order they were journaled. An order's entries
        commit one after the other, so whatever this statement sees of an order, it sees
        without gaps."""
        e, leaf = journal_entries.c, journal_leaves.c
        placed = exists().where(leaf.order_id == e.order_id, leaf.seq == e.seq)
        statement = (
            select(e.order_id, e.seq, e.hash)
            .where(~placed)
            .order_by(e.recorded_at, e.order_id, e.seq)
            .limit(limit)
        )
        rows = (await self.session.execute(statement)).all()
        return [Leaf(row.order_id, row.seq, row.hash) for row in rows]

    async def place(self, first_index: int, leaves: Sequence[Leaf]) -> None:
        if not leaves:
            return
        await self.session.execute(
            journal_leaves.insert(),
            [
                {
                    "leaf_index": first_index + n,
                    "order_id": leaf.order_id,
                    "seq": leaf.seq,
                    "entry_hash": leaf.entry_hash,
                }
                for n, leaf in enumerate(leaves)
            ],
        )

    async def leaves(self, start: int = 0, stop: int | None = None) -> list[Leaf]:
        """The leaves ``start`` .. ``stop - 1`` in tree order."""
        statement = select(journal_leaves).where(journal_leaves.c.leaf_index >= start)
        if stop is not None:
            statement = statement.where(journal_leaves.c.leaf_index < stop)
        rows = (await self.session.execute(statement.order_by(journal_leaves.c.leaf_index))).all()
        return [Leaf(row.order_id, row.seq, row.entry_hash) for row in rows]

    async def leaf_index(self, order_id: UUID, seq: int) -> int | None:
        found = await self.session.scalar(
            select(journal_leaves.c.leaf_index).where(
                journal_leaves.c.order_id == order_id, journal_leaves.c.seq == seq
            )
        )
        return None if found is None else int(found)

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self.session.execute(
            checkpoints.insert().values(
                tree_size=checkpoint.tree_size,
                root_hash=checkpoint.root_hash,
                issued_at=checkpoint.issued_at,
                key_id=checkpoint.key_id,
                signature=checkpoint.signature,
                previous_size=checkpoint.previous_size,
                consistency_proof=list(checkpoint.consistency_proof),
            )
        )

    async def latest(self) -> Checkpoint | None:
        statement = select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else _checkpoint(row)

    async def checkpoint(self, tree_size: int) -> Checkpoint | None:
        statement = select(checkpoints).where(checkpoints.c.tree_size == tree_size)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else _checkpoint(row)

    async def first_covering(self, leaf_index: int) -> Checkpoint | None:
        """The oldest checkpoint whose tree holds leaf ``leaf_index``."""
        statement = (
            select(checkpoints)
            .where(checkpoints.c.tree_size > leaf_index)
            .order_by(checkpoints.c.tree_size)
            .limit(1)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else _checkpoint(row)

    async def all(self) -> list[Checkpoint]:
        rows = (await self.session.execute(select(checkpoints).order_by(text("tree_size")))).all()
        return [_checkpoint(row) for row in rows]


def _checkpoint(row: Row[Any]) -> Checkpoint:
    return Checkpoint(
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        issued_at=row.issued_at,
        key_id=row.key_id,
        signature=row.signature,
        previous_size=row.previous_size,
        consistency_proof=tuple(row.consistency_proof),
    )
