"""The due dates an invoice reminder told, per order: a renewal reminder for the same order and
date is the same thing to do, and is not told again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoice_due_dates",
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("invoice_id", sa.Uuid, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "due_on", name="pk_invoice_due_dates"),
    )


def downgrade() -> None:
    op.drop_table("invoice_due_dates")
