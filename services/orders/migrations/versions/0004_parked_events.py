"""Inbound events parked until their order can take them (a delivery before acceptance).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op

from services.kit.migrations import create_parked_events_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_parked_events_table()


def downgrade() -> None:
    op.drop_table("parked_events")
