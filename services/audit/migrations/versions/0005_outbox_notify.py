"""The outbox wakes its relay by a trigger (NOTIFY at commit), not by a statement of each
writing transaction.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from services.kit.migrations import create_outbox_notify_trigger, drop_outbox_notify_trigger

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_notify_trigger()


def downgrade() -> None:
    drop_outbox_notify_trigger()
