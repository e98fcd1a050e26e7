"""A customer's banners: the active ones a page shows (dismissing one is a command)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.kit.db import UnitOfWork
from services.notifier import repository
from services.notifier.domain import Placement, Placements


async def active(
    work: UnitOfWork,
    *,
    customer_id: str,
    page: Placement,
    placements: Placements,
    after: repository.Cursor | None,
    limit: int,
) -> Sequence[Any]:
    """Every active banner of the customer's that ``page`` shows, whatever caused it."""
    kinds = [kind.value for kind in placements.kinds_on(page)]
    return await repository.active_banners(
        work.session, customer_id, kinds, after=after, limit=limit
    )
