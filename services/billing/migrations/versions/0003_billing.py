"""Billing's own tables: orders projection, invoices and lines, payments, counters, dunning.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("service_name", sa.String(200), nullable=False),
        sa.Column("plan", sa.String(200), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period_months", sa.Integer, nullable=False),
        sa.Column("paid_until", sa.Date, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ends_at_period_end", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("paid_amount", MONEY, nullable=False, server_default=sa.text("0")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewal_id", sa.Uuid, nullable=True),
        sa.Column("initial_for", sa.Uuid, nullable=True),
        sa.Column("dunning_stage", sa.String(20), nullable=True),
        sa.Column("voided_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        sa.UniqueConstraint("renewal_id", name="uq_invoices_renewal_id"),
        sa.UniqueConstraint("initial_for", name="uq_invoices_initial_for"),
    )
    op.create_index("ix_invoices_customer_id_number", "invoices", ["customer_id", "number"])
    op.create_index(
        "ix_invoices_unpaid_due_on",
        "invoices",
        ["due_on"],
        postgresql_where=sa.text("status IN ('open', 'overdue')"),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.Uuid, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("period_months", sa.Integer, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_invoice_lines_invoice_id_invoices"
        ),
        sa.PrimaryKeyConstraint("invoice_id", "order_id", name="pk_invoice_lines"),
    )
    op.create_index("ix_invoice_lines_order_id", "invoice_lines", ["order_id"])
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("invoice_id", sa.Uuid, nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("applied", MONEY, nullable=False),
        sa.Column("flag_reason", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", "outcome", name="pk_payments"),
    )
    op.create_index("ix_payments_invoice_id", "payments", ["invoice_id"])
    op.create_table(
        "invoice_counters",
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("last", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_invoice_counters"),
    )
    op.create_table(
        "auto_renewals",
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("paid_until", sa.Date, nullable=False),
        sa.Column("invoice_id", sa.Uuid, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "paid_until", name="pk_auto_renewals"),
    )
    op.create_table(
        "dunning_stages",
        sa.Column("invoice_id", sa.Uuid, nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", "stage", name="pk_dunning_stages"),
    )
    op.create_table(
        "exemptions",
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("exempted_by", sa.String(200), nullable=False),
        sa.Column("exempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_exemptions"),
    )


def downgrade() -> None:
    for table in (
        "exemptions",
        "dunning_stages",
        "auto_renewals",
        "invoice_counters",
        "payments",
        "invoice_lines",
        "invoices",
        "orders",
    ):
        op.drop_table(table)
