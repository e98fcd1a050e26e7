"""Unmatched payments staff dealt with by hand: when, who and how.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("payments", sa.Column("resolved_by", sa.String(200), nullable=True))
    op.add_column("payments", sa.Column("resolution", sa.Text, nullable=True))


def downgrade() -> None:
    for column in ("resolution", "resolved_by", "resolved_at"):
        op.drop_column("payments", column)
