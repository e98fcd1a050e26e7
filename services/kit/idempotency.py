"""``Idempotency-Key`` for creating POSTs: the same key with the same request gives back the
first answer instead of creating twice; the same key with another request is refused.

The key is claimed by inserting a row in the request's own unit of work: a concurrent retry
with the same key waits on that row and, once the first commits, reads its answer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.kit.problems import ProblemError

idempotency_metadata = MetaData()

idempotency_keys = Table(
    "idempotency_keys",
    idempotency_metadata,
    Column("scope", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("body", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
)

#: The optional request header, as a route parameter.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retries with the same key return the first answer instead of creating again.",
    ),
]


class IdempotencyKeyReused(ProblemError):
    status = 422
    title = "Idempotency key reused"


@dataclass(frozen=True)
class Remembered:
    """The answer given the first time a key was used."""

    status: int
    body: Any


def fingerprint(payload: Any) -> str:
    """A stable digest of what was asked (the JSON of the request model)."""
    encoded = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


async def claim(
    session: AsyncConnection, *, scope: str, key: str, request: Any
) -> Remembered | None:
    """Claim ``key`` for this request; returns the earlier answer when the key was used.

    ``scope`` separates callers and operations (e.g. ``orders:place:<customer id>``)."""
    digest = fingerprint(request)
    claimed = await session.scalar(_CLAIM, {"scope": scope, "key": key, "fingerprint": digest})
    if claimed is not None:
        return None
    earlier = (
        await session.execute(
            select(
                idempotency_keys.c.fingerprint, idempotency_keys.c.status, idempotency_keys.c.body
            ).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        )
    ).one()
    if earlier.fingerprint != digest:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was already used for a different request"
        )
    return Remembered(status=earlier.status, body=earlier.body)


async def remember(
    session: AsyncConnection, *, scope: str, key: str, status: int, body: Any
) -> None:
    """Store the answer of a claimed key, in the same unit of work as the effect."""
    await session.execute(
        _REMEMBER, {"claimed_scope": scope, "claimed_key": key, "status": status, "body": body}
    )


# Built once, values bound at execution: compiled once, found in SQLAlchemy's cache after that.
_CLAIM = insert(idempotency_keys).on_conflict_do_nothing().returning(idempotency_keys.c.key)
_REMEMBER = update(idempotency_keys).where(
    idempotency_keys.c.scope == bindparam("claimed_scope"),
    idempotency_keys.c.key == bindparam("claimed_key"),
)
