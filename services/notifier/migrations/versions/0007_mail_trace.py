"""Each mail keeps the trace context it was queued in, so its sending joins that trace.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mails", sa.Column("trace_context", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("mails", "trace_context")
