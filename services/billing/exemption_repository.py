"""Every SQL statement of dunning exemptions. Functions take the unit of work's session; none
commits."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain import (
    Exemption,
)
from services.billing.tables import (
    exemptions,
)


async def set_exemption(session: AsyncConnection, exemption: Exemption) -> None:
    values = {
        "reason": exemption.reason,
        "exempted_by": exemption.exempted_by,
        "exempted_at": exemption.exempted_at,
    }
    await session.execute(
        insert(exemptions)
        .values(customer_id=exemption.customer_id, **values)
        .on_conflict_do_update(index_elements=[exemptions.c.customer_id], set_=values)
    )


async def drop_exemption(session: AsyncConnection, customer_id: str) -> bool:
    result = await session.execute(
        exemptions.delete()
        .where(exemptions.c.customer_id == customer_id)
        .returning(exemptions.c.customer_id)
    )
    return result.first() is not None


async def list_exemptions(session: AsyncConnection, limit: int) -> list[Exemption]:
    """Exempt customers, the latest decision first."""
    rows = await session.execute(
        select(exemptions)
        .order_by(exemptions.c.exempted_at.desc(), exemptions.c.customer_id)
        .limit(limit)
    )
    return [Exemption(**row._asdict()) for row in rows]


async def count_exemptions(session: AsyncConnection) -> int:
    return int(await session.scalar(select(func.count()).select_from(exemptions)) or 0)


async def get_exemption(session: AsyncConnection, customer_id: str) -> Exemption | None:
    row = (
        await session.execute(select(exemptions).where(exemptions.c.customer_id == customer_id))
    ).first()
    return None if row is None else Exemption(**row._asdict())


async def is_exempt(session: AsyncConnection, customer_id: str) -> bool:
    found = await session.scalar(
        select(exemptions.c.customer_id).where(exemptions.c.customer_id == customer_id)
    )
    return found is not None
