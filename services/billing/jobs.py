"""Billing's time-driven work: renewal invoices ahead of paid-until, dunning, and payment
reminders around the due date.

Each pass runs under the kit's advisory lock (one replica at a time) and each effect has a
unique key in the database (``auto_renewals``, ``dunning_stages``, ``invoice_reminders``),
so a repeated or concurrent pass changes nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from prometheus_client import CollectorRegistry, Gauge

from contracts import InvoiceKind, OverdueStage
from services.billing import exemption_repository as exemptions_repo
from services.billing import order_repository as orders_repo
from services.billing import outgoing
from services.billing import payment_repository as payments_repo
from services.billing import repository as repo
from services.billing.domain import BilledOrder, DunningPolicy, Invoice
from services.billing.invoicing import issue_invoice
from services.billing.outgoing import BILLING_ACTOR
from services.kit import parking
from services.kit.context import Context
from services.kit.db import UnitOfWork
from services.kit.jobs import JobRun
from services.kit.runtime import Runtime

RENEWALS = "renewal-invoices"
DUNNING = "dunning"
REMINDERS = "invoice-reminders"
UNMATCHED = "unmatched-payments"
BATCH = 200


def renewal_invoices(policy: DunningPolicy) -> JobRun:
    """Issue a renewal invoice for each active order whose paid-until is near."""

    async def run(work: UnitOfWork, now: datetime) -> int:
        horizon = policy.renewal_horizon(now.date())
        due = await orders_repo.renewal_candidates(work.session, horizon, BATCH)
        issued = 0
        for order in due:
            issued += await _renew(work, order, Context.of_job(now, BILLING_ACTOR), policy)
        return issued

    return run


async def _renew(work: UnitOfWork, order: BilledOrder, ctx: Context, policy: DunningPolicy) -> int:
    assert order.paid_until is not None, "only orders with a paid period are renewed"
    invoice_id = uuid4()
    if not await orders_repo.claim_auto_renewal(
        work.session, order.order_id, order.paid_until, invoice_id
    ):
        return 0
    await issue_invoice(
        work,
        ctx,
        kind=InvoiceKind.RENEWAL,
        customer_id=order.customer_id,
        lines=[order.renewal_line()],
        policy=policy,
        invoice_id=invoice_id,
        due_on=order.paid_until,
    )
    return 1


def dunning(policy: DunningPolicy) -> JobRun:
    """Move unpaid invoices through the stages, publishing each stage once per invoice."""

    async def run(work: UnitOfWork, now: datetime) -> int:
        today = now.date()
        reached_by = {
            stage: today - timedelta(days=day) for stage, day in policy.stage_days().items()
        }
        published = 0
        for invoice in await repo.dunning_candidates(work.session, reached_by, BATCH):
            published += await _chase(work, invoice, Context.of_job(now, BILLING_ACTOR), policy)
        return published

    return run


async def _chase(work: UnitOfWork, invoice: Invoice, ctx: Context, policy: DunningPolicy) -> int:
    exempt = await exemptions_repo.is_exempt(work.session, invoice.customer_id)
    stages = policy.stages_reached(invoice.due_on, ctx.now.date(), exempt=exempt)
    published = 0
    for stage in stages:
        if not await repo.claim_stage(work.session, invoice.id, stage, ctx.now):
            continue
        if stage is OverdueStage.OVERDUE:
            invoice.mark_overdue()
        invoice.dunning_stage = stage
        work.publish(outgoing.overdue(invoice, stage, ctx))
        published += 1
    await repo.save_invoice(work.session, invoice)
    return published


def reminders(policy: DunningPolicy) -> JobRun:
    """Remind customers of unpaid invoices at the policy's offsets, once per invoice and offset.

    Paid and void invoices are never reminded: only unpaid ones are candidates."""

    async def run(work: UnitOfWork, now: datetime) -> int:
        today = now.date()
        windows = policy.reminder_windows(today)
        published = 0
        for invoice in await repo.reminder_candidates(work.session, windows, BATCH):
            offset = policy.reminder_due(invoice.due_on, today)
            assert offset is not None, "a candidate is in the window of an offset"
            if await repo.claim_reminder(work.session, invoice.id, offset, now):
                work.publish(
                    outgoing.reminder_due(invoice, offset, Context.of_job(now, BILLING_ACTOR))
                )
                published += 1
        return published

    return run


def unmatched_payments(registry: CollectorRegistry) -> JobRun:
    """Keep the gauge of payments staff must look at (``GET /payments/unmatched``) current."""
    gauge = Gauge(
        "billing_unmatched_payments",
        "Received payments not wholly applied to an invoice",
        registry=registry,
    )

    async def run(work: UnitOfWork, now: datetime) -> int:
        gauge.set(await payments_repo.count_unmatched_payments(work.session))
        return 0

    return run


def register(
    runtime: Runtime, policy: DunningPolicy, interval: timedelta, registry: CollectorRegistry
) -> None:
    """Register billing's jobs on the runtime's scheduler."""
    runtime.jobs.add(RENEWALS, interval, renewal_invoices(policy), batch_size=BATCH)
    runtime.jobs.add(DUNNING, interval, dunning(policy), batch_size=BATCH)
    runtime.jobs.add(REMINDERS, interval, reminders(policy), batch_size=BATCH)
    runtime.jobs.add(UNMATCHED, interval, unmatched_payments(registry))
    parking.schedule_expiry(runtime, registry)
