"""Use cases on a customer's banners: list the active ones a page shows, dismiss one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from services.kit.db import UnitOfWork
from services.notifier import domain, repository
from services.notifier.domain import BannerNotFound, Placement, Placements, Severity


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


async def dismiss(work: UnitOfWork, banner_id: UUID, *, customer_id: str, now: datetime) -> None:
    """Hide a non-critical banner of the customer's (critical ones stay until resolved)."""
    banner = await repository.get_banner(work.session, banner_id, customer_id)
    if banner is None:
        raise BannerNotFound(f"No banner {banner_id}")
    domain.ensure_dismissible(Severity(banner.severity))
    await repository.dismiss_banner(work.session, banner_id, now)
