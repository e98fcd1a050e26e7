"""Billing's tables. The unique keys are what make every effect happen once, whatever the
number of replicas or deliveries: one initial invoice per order, one invoice per renewal
request, one automatic renewal per order and paid-until, one row per payment, one dunning
stage and one reminder per offset per invoice."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    false,
    text,
)

from services.kit.db import new_metadata

metadata = new_metadata()

MONEY = Numeric(14, 2)

#: Billing's projection of orders: what it needs to invoice renewals.
orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("customer_id", String(200), nullable=False),
    Column("service_name", String(200), nullable=False),
    Column("plan", String(200), nullable=False),
    Column("price", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period_months", Integer, nullable=False),
    Column("paid_until", Date, nullable=True),
    #: placed, active or cancelled: only active orders get renewal invoices.
    Column("status", String(20), nullable=False),
    Column("ends_at_period_end", Boolean, nullable=False, server_default=false()),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", MONEY, nullable=False),
    Column("paid_amount", MONEY, nullable=False, server_default=text("0")),
    Column("status", String(20), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=True),
    #: The renewal request invoiced; one invoice per request that is not void (a corrected
    #: invoice keeps the request of the one it replaces).
    Column("renewal_id", Uuid, nullable=True),
    #: The order this is the first invoice of (initial invoices only): one per order.
    Column("initial_for", Uuid, nullable=True, unique=True),
    Column("dunning_stage", String(20), nullable=True),
    Column("voided_reason", Text, nullable=True),
    Column("replaces", Uuid, nullable=True),
    Index("ix_invoices_customer_id_number", "customer_id", "number"),
    Index(
        "uq_invoices_renewal_id_not_void",
        "renewal_id",
        unique=True,
        postgresql_where=text("status <> 'void'"),
    ),
    Index(
        "ix_invoices_unpaid_due_on",
        "due_on",
        postgresql_where=text("status IN ('open', 'overdue')"),
    ),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", Uuid, ForeignKey("invoices.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("description", Text, nullable=False),
    Column("period_months", Integer, nullable=False),
    Column("amount", MONEY, nullable=False),
    PrimaryKeyConstraint("invoice_id", "order_id", name="pk_invoice_lines"),
    Index("ix_invoice_lines_order_id", "order_id"),
)

#: Every payment, applied or flagged; a gateway payment id is booked once per outcome.
payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("invoice_id", Uuid, nullable=True),
    Column("source", String(20), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("applied", MONEY, nullable=False),
    Column("flag_reason", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("recorded_by", String(200), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    #: Unmatched money staff dealt with by hand: no longer listed as unmatched.
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("resolution", Text, nullable=True),
    PrimaryKeyConstraint("payment_id", "outcome", name="pk_payments"),
    Index("ix_payments_invoice_id", "invoice_id"),
)

#: One row per year; incremented in the transaction that issues the invoice, so numbers
#: are gapless (a rolled back invoice rolls its number back too).
invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)

auto_renewals = Table(
    "auto_renewals",
    metadata,
    Column("order_id", Uuid, nullable=False),
    Column("paid_until", Date, nullable=False),
    Column("invoice_id", Uuid, nullable=False),
    PrimaryKeyConstraint("order_id", "paid_until", name="pk_auto_renewals"),
)

dunning_stages = Table(
    "dunning_stages",
    metadata,
    Column("invoice_id", Uuid, nullable=False),
    Column("stage", String(20), nullable=False),
    Column("reached_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("invoice_id", "stage", name="pk_dunning_stages"),
)

#: One row per invoice and reminder offset: each reminder is published once.
invoice_reminders = Table(
    "invoice_reminders",
    metadata,
    Column("invoice_id", Uuid, nullable=False),
    Column("offset_days", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("invoice_id", "offset_days", name="pk_invoice_reminders"),
)

exemptions = Table(
    "exemptions",
    metadata,
    Column("customer_id", String(200), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("exempted_by", String(200), nullable=False),
    Column("exempted_at", DateTime(timezone=True), nullable=False),
)
