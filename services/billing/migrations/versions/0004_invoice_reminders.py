"""Invoice payment reminders: one row per invoice and reminder offset.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoice_reminders",
        sa.Column("invoice_id", sa.Uuid, nullable=False),
        sa.Column("offset_days", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", "offset_days", name="pk_invoice_reminders"),
    )


def downgrade() -> None:
    op.drop_table("invoice_reminders")
