"""Each mail records its language, which it declares in ``Content-Language``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mails", sa.Column("language", sa.String(10), nullable=True))
    # A mail recorded before knows its language only from the lang of its HTML part.
    op.execute(
        "UPDATE mails SET language = coalesce("
        "substring(html_body from '<html lang=\"([A-Za-z-]+)\"'), 'en')"
    )
    op.alter_column("mails", "language", nullable=False)


def downgrade() -> None:
    op.drop_column("mails", "language")
