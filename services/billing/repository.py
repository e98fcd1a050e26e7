"""Every SQL statement of billing. Functions take the unit of work's session; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, exists, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.billing import InvoiceKind, OverdueStage
from services.billing.domain import (
    UNPAID,
    BilledOrder,
    BilledOrderStatus,
    Exemption,
    Invoice,
    InvoiceStatus,
    Line,
)
from services.billing.tables import (
    auto_renewals,
    dunning_stages,
    exemptions,
    invoice_counters,
    invoice_lines,
    invoice_reminders,
    invoices,
    orders,
    payments,
)

_UNPAID = [str(status) for status in UNPAID]

# --- orders projection ------------------------------------------------------------------------


async def add_order(session: AsyncSession, order: BilledOrder) -> bool:
    """Insert the order once; False when billing knew it already (a repeated placement)."""
    inserted = await session.scalar(
        insert(orders)
        .values(
            order_id=order.order_id,
            customer_id=order.customer_id,
            service_name=order.service_name,
            plan=order.plan,
            price=order.price,
            currency=order.currency,
            period_months=order.period_months,
            status=BilledOrderStatus.PLACED.value,
        )
        .on_conflict_do_nothing()
        .returning(orders.c.order_id)
    )
    return inserted is not None


@dataclass(frozen=True)
class OrderChange:
    """What an order's event changes in billing's view of it (``None``: unchanged)."""

    status: BilledOrderStatus | None = None
    paid_until: date | None = None
    ends_at_period_end: bool | None = None


async def update_order(session: AsyncSession, order_id: UUID, change: OrderChange) -> bool:
    """Change billing's view of an order; False when billing does not know the order."""
    values = {
        name: value
        for name, value in (
            ("status", change.status and change.status.value),
            ("paid_until", change.paid_until),
            ("ends_at_period_end", change.ends_at_period_end),
        )
        if value is not None
    }
    changed = await session.scalar(
        update(orders)
        .where(orders.c.order_id == order_id)
        .values(values)
        .returning(orders.c.order_id)
    )
    return changed is not None


async def renewal_candidates(session: AsyncSession, horizon: date, limit: int) -> list[BilledOrder]:
    """Active orders paid until ``horizon`` or earlier, without an automatic renewal invoice
    for that paid-until and without an unpaid renewal invoice."""
    claimed = exists().where(
        auto_renewals.c.order_id == orders.c.order_id,
        auto_renewals.c.paid_until == orders.c.paid_until,
    )
    unpaid_renewal = exists().where(
        invoice_lines.c.order_id == orders.c.order_id,
        invoices.c.id == invoice_lines.c.invoice_id,
        invoices.c.kind == InvoiceKind.RENEWAL.value,
        invoices.c.status.in_(_UNPAID),
    )
    rows = await session.execute(
        select(orders)
        .where(
            orders.c.status == BilledOrderStatus.ACTIVE.value,
            orders.c.ends_at_period_end.is_(False),
            orders.c.paid_until <= horizon,
            ~claimed,
            ~unpaid_renewal,
        )
        .order_by(orders.c.paid_until, orders.c.order_id)
        .limit(limit)
    )
    return [_billed_order(row) for row in rows]


async def claim_auto_renewal(
    session: AsyncSession, order_id: UUID, paid_until: date, invoice_id: UUID
) -> bool:
    claimed = await session.scalar(
        insert(auto_renewals)
        .values(order_id=order_id, paid_until=paid_until, invoice_id=invoice_id)
        .on_conflict_do_nothing()
        .returning(auto_renewals.c.order_id)
    )
    return claimed is not None


def _billed_order(row: Row[Any]) -> BilledOrder:
    return BilledOrder(
        order_id=row.order_id,
        customer_id=row.customer_id,
        service_name=row.service_name,
        plan=row.plan,
        price=row.price,
        currency=row.currency,
        period_months=row.period_months,
        paid_until=row.paid_until,
    )


# --- invoices ---------------------------------------------------------------------------------


async def next_sequence(session: AsyncSession, year: int) -> int:
    """The next invoice number of ``year``; the row lock is held until the transaction ends,
    so concurrent issuers queue and a rollback leaves no gap."""
    statement = insert(invoice_counters).values(year=year, last=1)
    counted = statement.on_conflict_do_update(
        index_elements=[invoice_counters.c.year],
        set_={"last": invoice_counters.c.last + 1},
    ).returning(invoice_counters.c.last)
    return int(await session.scalar(counted) or 0)


async def add_invoice(
    session: AsyncSession, invoice: Invoice, *, initial_for: UUID | None = None
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


async def save_invoice(session: AsyncSession, invoice: Invoice) -> None:
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
    session: AsyncSession, invoice_id: UUID, *, for_update: bool = False
) -> Invoice | None:
    """One invoice with its lines; ``for_update`` locks it for a change."""
    statement = select(invoices).where(invoices.c.id == invoice_id)
    if for_update:
        statement = statement.with_for_update()
    found = await _load(session, statement)
    return found[0] if found else None


async def invoice_exists(session: AsyncSession, *, renewal_id: UUID) -> bool:
    found = await session.scalar(select(invoices.c.id).where(invoices.c.renewal_id == renewal_id))
    return found is not None


async def unpaid_invoices_of_order(session: AsyncSession, order_id: UUID) -> list[Invoice]:
    """Open or overdue invoices with a line for the order, locked for a change."""
    statement = (
        select(invoices)
        .where(invoices.c.status.in_(_UNPAID), _has_order(order_id))
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
    session: AsyncSession, where: InvoiceFilter, *, before: str | None, limit: int
) -> list[Invoice]:
    """Newest first, by number (numbers sort in issue order); ``before`` is the keyset."""
    conditions = where.conditions()
    if before is not None:
        conditions.append(invoices.c.number < before)
    statement = (
        select(invoices).where(and_(True, *conditions)).order_by(invoices.c.number.desc())
    ).limit(limit)
    return await _load(session, statement)


async def count_invoices(session: AsyncSession, where: InvoiceFilter) -> int:
    statement = select(func.count()).select_from(invoices).where(and_(True, *where.conditions()))
    return int(await session.scalar(statement) or 0)


async def invoice_counts(
    session: AsyncSession, customer_id: str | None, order_ids: Sequence[UUID]
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
    session: AsyncSession, reached_by: dict[OverdueStage, date], limit: int
) -> list[Invoice]:
    """Unpaid invoices that may have reached a stage they have not had yet, locked; an
    exempt customer's invoices past the overdue stage are left out."""
    not_exempt = ~exists().where(exemptions.c.customer_id == invoices.c.customer_id)
    stage = invoices.c.dunning_stage
    due = invoices.c.due_on
    statement = (
        select(invoices)
        .where(
            invoices.c.status.in_(_UNPAID),
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
    session: AsyncSession, invoice_id: UUID, stage: OverdueStage, at: datetime
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
    session: AsyncSession, windows: dict[int, tuple[date | None, date]], limit: int
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
        .where(invoices.c.status.in_(_UNPAID), or_(*in_window))
        .order_by(invoices.c.due_on, invoices.c.id)
        .limit(limit)
        # Waits, not SKIP LOCKED: each job already runs one pass at a time across replicas,
        # and skipping rows another job holds would put them off for a whole interval.
        .with_for_update()
    )
    return await _load(session, statement) if in_window else []


async def claim_reminder(
    session: AsyncSession, invoice_id: UUID, offset_days: int, at: datetime
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


async def _load(session: AsyncSession, statement: Any) -> list[Invoice]:
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


# --- payments and exemptions ------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRecord:
    """A payment as booked: applied to an invoice, flagged, or a failed attempt."""

    payment_id: str
    outcome: str
    invoice_id: UUID | None
    source: str
    amount: Decimal
    currency: str
    applied: Decimal
    flag_reason: str | None
    received_at: datetime
    note: str | None = None
    recorded_by: str | None = None
    #: Unmatched money staff dealt with by hand (refunded, booked elsewhere): when, who, how.
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


async def add_payment(session: AsyncSession, payment: PaymentRecord) -> bool:
    """Book a payment once; False when this payment id (and outcome) is booked already."""
    booked = await session.scalar(
        insert(payments)
        .values(**payment.__dict__)
        .on_conflict_do_nothing()
        .returning(payments.c.payment_id)
    )
    return booked is not None


async def payments_of(session: AsyncSession, invoice_id: UUID) -> list[PaymentRecord]:
    rows = await session.execute(
        select(payments)
        .where(payments.c.invoice_id == invoice_id)
        .order_by(payments.c.received_at, payments.c.payment_id)
    )
    return [PaymentRecord(**row._asdict()) for row in rows]


#: A payment some of whose money went to no invoice, not yet resolved: staff must look at it.
_UNMATCHED = and_(
    payments.c.outcome == "received",
    payments.c.applied < payments.c.amount,
    payments.c.resolved_at.is_(None),
)


async def unmatched_payments(session: AsyncSession, limit: int) -> list[PaymentRecord]:
    """Received payments not wholly applied to an invoice, newest first."""
    rows = await session.execute(
        select(payments)
        .where(_UNMATCHED)
        .order_by(payments.c.received_at.desc(), payments.c.payment_id)
        .limit(limit)
    )
    return [PaymentRecord(**row._asdict()) for row in rows]


async def resolve_unmatched(
    session: AsyncSession, payment_id: str, *, by: str, at: datetime, resolution: str
) -> PaymentRecord | None:
    """Mark an unmatched payment as dealt with; None when there is no such unmatched one."""
    row = (
        await session.execute(
            update(payments)
            .where(_UNMATCHED, payments.c.payment_id == payment_id)
            .values(resolved_at=at, resolved_by=by, resolution=resolution)
            .returning(*payments.c)
        )
    ).first()
    return None if row is None else PaymentRecord(**row._asdict())


async def count_unmatched_payments(session: AsyncSession) -> int:
    counted = await session.scalar(select(func.count()).select_from(payments).where(_UNMATCHED))
    return int(counted or 0)


async def set_exemption(session: AsyncSession, exemption: Exemption) -> None:
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


async def drop_exemption(session: AsyncSession, customer_id: str) -> bool:
    result = await session.execute(
        exemptions.delete()
        .where(exemptions.c.customer_id == customer_id)
        .returning(exemptions.c.customer_id)
    )
    return result.first() is not None


async def list_exemptions(session: AsyncSession, limit: int) -> list[Exemption]:
    """Exempt customers, the latest decision first."""
    rows = await session.execute(
        select(exemptions)
        .order_by(exemptions.c.exempted_at.desc(), exemptions.c.customer_id)
        .limit(limit)
    )
    return [Exemption(**row._asdict()) for row in rows]


async def count_exemptions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(exemptions)) or 0)


async def get_exemption(session: AsyncSession, customer_id: str) -> Exemption | None:
    row = (
        await session.execute(select(exemptions).where(exemptions.c.customer_id == customer_id))
    ).first()
    return None if row is None else Exemption(**row._asdict())


async def live_orders_of(session: AsyncSession, customer_id: str) -> list[UUID]:
    """The customer's orders billing knows that are not cancelled, in a stable order."""
    found: Sequence[UUID] = (
        await session.scalars(
            select(orders.c.order_id)
            .where(
                orders.c.customer_id == customer_id,
                orders.c.status != BilledOrderStatus.CANCELLED.value,
            )
            .order_by(orders.c.order_id)
        )
    ).all()
    return list(found)


async def is_exempt(session: AsyncSession, customer_id: str) -> bool:
    found = await session.scalar(
        select(exemptions.c.customer_id).where(exemptions.c.customer_id == customer_id)
    )
    return found is not None
