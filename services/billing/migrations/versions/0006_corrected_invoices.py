"""Corrected invoices: the invoice one replaces, and one invoice per renewal request that is
not void (a correction keeps the request of the invoice it replaces).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("replaces", sa.Uuid, nullable=True))
    op.drop_constraint("uq_invoices_renewal_id", "invoices", type_="unique")
    op.create_index(
        "uq_invoices_renewal_id_not_void",
        "invoices",
        ["renewal_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'void'"),
    )


def downgrade() -> None:
    op.drop_index("uq_invoices_renewal_id_not_void", "invoices")
    op.create_unique_constraint("uq_invoices_renewal_id", "invoices", ["renewal_id"])
    op.drop_column("invoices", "replaces")
