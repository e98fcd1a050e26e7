"""Signed checkpoints: the Merkle tree's leaves and signed tree heads; signed staff entries;
staff texts kept beside the journal (redactable).

``journal_leaves`` and ``checkpoints`` are append-only like the journal (the same triggers);
the writer may insert and read them. ``staff_texts`` is mutable: a redaction empties a row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WRITER = "audit_writer"
APPEND_ONLY = ("journal_leaves", "checkpoints")

GRANTS = f"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITER}') THEN
        GRANT SELECT, INSERT ON journal_leaves, checkpoints TO {WRITER};
        GRANT SELECT, INSERT, UPDATE ON staff_texts TO {WRITER};
    END IF;
END
$$;
"""


def upgrade() -> None:
    op.add_column("journal_entries", Column("signature", String(128), nullable=True))
    op.create_table(
        "journal_leaves",
        Column("leaf_index", BigInteger, nullable=False, autoincrement=False),
        Column("order_id", Uuid, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("entry_hash", String(64), nullable=False),
        PrimaryKeyConstraint("leaf_index", name="pk_journal_leaves"),
        UniqueConstraint("order_id", "seq", name="uq_journal_leaves_order_id_seq"),
    )
    op.create_table(
        "checkpoints",
        Column("tree_size", BigInteger, nullable=False, autoincrement=False),
        Column("root_hash", String(64), nullable=False),
        Column("issued_at", DateTime(timezone=True), nullable=False),
        Column("key_id", String(16), nullable=False),
        Column("signature", String(128), nullable=False),
        Column("previous_size", BigInteger, nullable=False),
        Column("consistency_proof", JSONB, nullable=False),
        PrimaryKeyConstraint("tree_size", name="pk_checkpoints"),
    )
    op.create_table(
        "staff_texts",
        Column("order_id", Uuid, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("text", Text, nullable=True),
        Column("salt", String(32), nullable=True),
        Column("redacted_at", DateTime(timezone=True), nullable=True),
        PrimaryKeyConstraint("order_id", "seq", name="pk_staff_texts"),
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION journal_entries_refuse()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_refuse()"
        )
        op.execute(f"REVOKE ALL ON {table} FROM PUBLIC")
    op.execute(GRANTS)


def downgrade() -> None:
    op.drop_table("staff_texts")
    op.drop_table("checkpoints")
    op.drop_table("journal_leaves")
    op.drop_column("journal_entries", "signature")
