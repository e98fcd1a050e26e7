"""An order's events parked until its ``order.placed`` comes (services.kit.parking).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

from services.kit.migrations import create_parked_events_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_parked_events_table()


def downgrade() -> None:
    op.drop_table("parked_events")
