"""Every SQL statement of billing's invoices: numbering, storing and loading them, the lists,
and the candidates of dunning and reminders. Billing's view of orders is in ``order_repository``,
payments in ``payment_repository``, exemptions in ``exemption_repository``. Functions take the
unit of work's session; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, exists, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.billing import InvoiceKind, OverdueStage
from services.billing.domain import (
    UNPAID,
    Invoice,
    InvoiceStatus,
    Line,
)
from services.billing.tables import (
    dunning_stages,
    exemptions,
    invoice_counters,
    invoice_lines,
    invoice_reminders,
    invoices,
)

#: The unpaid statuses as stored.
UNPAID_VALUES = [str(status) for status in UNPAID]


async def next_sequence(session: AsyncConnection, year: int) -> int:
    """The next invoice number of ``year``; the row lock is held until the transaction ends,
    so concurrent issuers queue and a rollback leaves no gap."""
    statement = insert(invoice_counters).values(year=year, last=1)
    counted = statement.on_conflict_do_update(
        index_elements=[invoice_counters.c.year],
        set_={"last": invoice_counters.c.last + 1},
    ).returning(invoice_counters.c.last)
    return int(await session.scalar(counted) or 0)


async def add_invoice(
    session: AsyncConnection, invoice: Invoice, *, initial_for: UUID | None = None
) -> None:
    await session.execute(
        insert(invoices).values(
            id=invoice.id,
            number=invoice.number,
            kind=invoice.kind.value,
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            total=invoice.total,
            status=invoice.status.value,
            issued_on=invoice.issued_on,
            due_on=invoice.due_on,
            renewal_id=invoice.renewal_id,
            initial_for=initial_for,
            replaces=invoice.replaces,
        )
    )
    await session.execute(
        insert(invoice_lines),
        [
            {
                "invoice_id": invoice.id,
                "position": position,
                "order_id": line.order_id,
                "description": line.description,
                "period_months": line.period_months,
                "amount": line.amount,
            }
            for position, line in enumerate(invoice.lines)
        ],
    )


async def save_invoice(session: AsyncConnection, invoice: Invoice) -> None:
    """Write back what the domain may change: status, payments so far, dunning stage."""
    await session.execute(
        update(invoices)
        .where(invoices.c.id == invoice.id)
        .values(
            status=invoice.status.value,
            paid_amount=invoice.paid_amount,
            paid_at=invoice.paid_at,
            dunning_stage=invoice.dunning_stage.value if invoice.dunning_stage else None,
            voided_reason=invoice.voided_reason,
        )
    )


async def get_invoice(
    session: AsyncConnection, invoice_id: UUID, *, for_update: bool = False
) -> Invoice | None:
    """One invoice with its lines; ``for_update`` locks it for a change."""
    statement = select(invoices).where(invoices.c.id == invoice_id)
    if for_update:
        statement = statement.with_for_update()
    found = await _load(session, statement)
    return found[0] if found else None


async def invoice_exists(session: AsyncConnection, *, renewal_id: UUID) -> bool:
    found = await session.scalar(select(invoices.c.id).where(invoices.c.renewal_id == renewal_id))
    return found is not None


async def unpaid_invoices_of_order(session: AsyncConnection, order_id: UUID) -> list[Invoice]:
    """Open or overdue invoices with a line for the order, locked for a change."""
    statement = (
        select(invoices)
        .where(invoices.c.status.in_(UNPAID_VALUES), _has_order(order_id))
        .order_by(invoices.c.number)
        .with_for_update()
    )
    return await _load(session, statement)


@dataclass(frozen=True)
class InvoiceFilter:
    """What a list of invoices is narrowed to; ``customer_id`` is forced for customers."""

    customer_id: str | None = None
    status: InvoiceStatus | None = None
    order_id: UUID | None = None
    issued_from: date | None = None
    issued_to: date | None = None

    def conditions(self) -> list[Any]:
        found: list[Any] = []
        if self.customer_id is not None:
            found.append(invoices.c.customer_id == self.customer_id)
        if self.status is not None:
            found.append(invoices.c.status == self.status.value)
        if self.order_id is not None:
            found.append(_has_order(self.order_id))
        if self.issued_from is not None:
            found.append(invoices.c.issued_on >= self.issued_from)
        if self.issued_to is not None:
            found.append(invoices.c.issued_on <= self.issued_to)
        return found


async def list_invoices(
    session: AsyncConnection, where: InvoiceFilter, *, before: str | None, limit: int
) -> list[Invoice]:
    """Newest first, by number (numbers sort in issue order); ``before`` is the keyset."""
    conditions = where.conditions()
    if before is not None:
        conditions.append(invoices.c.number < before)
    statement = (
        select(invoices).where(and_(True, *conditions)).order_by(invoices.c.number.desc())
    ).limit(limit)
    return await _load(session, statement)


async def count_invoices(session: AsyncConnection, where: InvoiceFilter) -> int:
    statement = select(func.count()).select_from(invoices).where(and_(True, *where.conditions()))
    return int(await session.scalar(statement) or 0)


async def invoice_counts(
    session: AsyncConnection, customer_id: str | None, order_ids: Sequence[UUID]
) -> dict[UUID, int]:
    """How many invoices each order has (of this customer, unless staff asks)."""
    statement = (
        select(invoice_lines.c.order_id, func.count())
        .join(invoices, invoices.c.id == invoice_lines.c.invoice_id)
        .where(invoice_lines.c.order_id.in_(order_ids))
        .group_by(invoice_lines.c.order_id)
    )
    if customer_id is not None:
        statement = statement.where(invoices.c.customer_id == customer_id)
    counted = {row[0]: int(row[1]) for row in await session.execute(statement)}
    return {order_id: counted.get(order_id, 0) for order_id in order_ids}


async def dunning_candidates(
    session: AsyncConnection, reached_by: dict[OverdueStage, date], limit: int
) -> list[Invoice]:
    """Unpaid invoices that may have reached a stage they have not had yet, locked; an
    exempt customer's invoices past the overdue stage are left out."""
    not_exempt = ~exists().where(exemptions.c.customer_id == invoices.c.customer_id)
    stage = invoices.c.dunning_stage
    due = invoices.c.due_on
    statement = (
        select(invoices)
        .where(
            invoices.c.status.in_(UNPAID_VALUES),
            or_(
                and_(stage.is_(None), due <= reached_by[OverdueStage.OVERDUE]),
                and_(
                    stage == OverdueStage.OVERDUE.value,
                    due <= reached_by[OverdueStage.SUSPEND],
                    not_exempt,
                ),
                and_(
                    stage == OverdueStage.SUSPEND.value,
                    due <= reached_by[OverdueStage.TERMINATE],
                    not_exempt,
                ),
            ),
        )
        .order_by(invoices.c.due_on, invoices.c.id)
        .limit(limit)
        # Waits, not SKIP LOCKED: each job already runs one pass at a time across replicas,
        # and skipping rows another job holds would put them off for a whole interval.
        .with_for_update()
    )
    return await _load(session, statement)


async def claim_stage(
    session: AsyncConnection, invoice_id: UUID, stage: OverdueStage, at: datetime
) -> bool:
    """Record that the invoice reached ``stage``; False when it had already."""
    claimed = await session.scalar(
        insert(dunning_stages)
        .values(invoice_id=invoice_id, stage=stage.value, reached_at=at)
        .on_conflict_do_nothing()
        .returning(dunning_stages.c.stage)
    )
    return claimed is not None


async def reminder_candidates(
    session: AsyncConnection, windows: dict[int, tuple[date | None, date]], limit: int
) -> list[Invoice]:
    """Unpaid invoices whose due date falls in the window of an offset they were not reminded
    at yet (see ``DunningPolicy.reminder_windows``), locked."""
    due = invoices.c.due_on
    in_window = [
        and_(
            due > after if after is not None else true(),
            due <= latest,
            ~exists().where(
                invoice_reminders.c.invoice_id == invoices.c.id,
                invoice_reminders.c.offset_days == offset,
            ),
        )
        for offset, (after, latest) in windows.items()
    ]
    statement = (
        select(invoices)
        .where(invoices.c.status.in_(UNPAID_VALUES), or_(*in_window))
        .order_by(invoices.c.due_on, invoices.c.id)
        .limit(limit)
        # Waits, not SKIP LOCKED: each job already runs one pass at a time across replicas,
        # and skipping rows another job holds would put them off for a whole interval.
        .with_for_update()
    )
    return await _load(session, statement) if in_window else []


async def claim_reminder(
    session: AsyncConnection, invoice_id: UUID, offset_days: int, at: datetime
) -> bool:
    """Record the invoice's reminder at ``offset_days``; False when it was sent already."""
    claimed = await session.scalar(
        insert(invoice_reminders)
        .values(invoice_id=invoice_id, offset_days=offset_days, sent_at=at)
        .on_conflict_do_nothing()
        .returning(invoice_reminders.c.offset_days)
    )
    return claimed is not None


def _has_order(order_id: UUID) -> Any:
    return exists().where(
        invoice_lines.c.invoice_id == invoices.c.id, invoice_lines.c.order_id == order_id
    )


async def _load(session: AsyncConnection, statement: Any) -> list[Invoice]:
    rows = (await session.execute(statement)).all()
    if not rows:
        return []
    lines = await session.execute(
        select(invoice_lines, invoices.c.currency)
        .join(invoices, invoices.c.id == invoice_lines.c.invoice_id)
        .where(invoice_lines.c.invoice_id.in_([row.id for row in rows]))
        .order_by(invoice_lines.c.invoice_id, invoice_lines.c.position)
    )
    by_invoice: dict[UUID, list[Line]] = {}
    for line in lines:
        by_invoice.setdefault(line.invoice_id, []).append(
            Line(line.order_id, line.description, line.period_months, line.amount, line.currency)
        )
    return [_invoice(row, by_invoice[row.id]) for row in rows]


def _invoice(row: Row[Any], lines: list[Line]) -> Invoice:
    return Invoice(
        id=row.id,
        number=row.number,
        kind=InvoiceKind(row.kind),
        customer_id=row.customer_id,
        lines=tuple(lines),
        issued_on=row.issued_on,
        due_on=row.due_on,
        status=InvoiceStatus(row.status),
        paid_amount=row.paid_amount,
        paid_at=row.paid_at,
        renewal_id=row.renewal_id,
        dunning_stage=OverdueStage(row.dunning_stage) if row.dunning_stage else None,
        voided_reason=row.voided_reason,
        replaces=row.replaces,
    )
