"""The order journal: append-only entries, chain heads with headers, actors, order references.

Append-only is enforced here, in PostgreSQL, for everyone: row triggers refuse UPDATE and
DELETE and a statement trigger refuses TRUNCATE on ``journal_entries``, the owner included
(only a superuser who switches ``session_replication_role`` to ``replica`` gets past them,
and the hash chain then shows what changed).

The service's own login role, ``audit_writer``, may only INSERT and SELECT entries. Creating
a role needs CREATEROLE, which the owner of the database usually lacks: the migration creates
it when it may, and otherwise grants to it when an administrator created it beforehand (see
the README of the deployment); the grants are the part that matters and they always run when
the role exists.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WRITER = "audit_writer"

REFUSE = (
    """
CREATE FUNCTION journal_entries_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the order journal is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    """
CREATE TRIGGER journal_entries_no_update_delete BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_entries_refuse()
""",
    """
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_refuse()
""",
)

ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITER}') THEN
        BEGIN
            CREATE ROLE {WRITER} LOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'cannot create role {WRITER}: an administrator creates it';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITER}') THEN
        GRANT SELECT, INSERT ON journal_entries, inbox, order_refs TO {WRITER};
        GRANT SELECT, INSERT, UPDATE ON journal_orders, actors, idempotency_keys TO {WRITER};
        GRANT SELECT, INSERT, UPDATE ON outbox TO {WRITER};
        GRANT SELECT, INSERT, DELETE ON parked_events TO {WRITER};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {WRITER};
        GRANT SELECT ON alembic_version TO {WRITER};
    END IF;
END
$$;
"""


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        Column("order_id", Uuid, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("kind", String(10), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("event_id", Uuid, nullable=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("actor_kind", String(20), nullable=False),
        Column("actor_id", String(200), nullable=False),
        Column("summary", JSONB, nullable=False),
        Column("details", JSONB, nullable=False),
        Column("visible_to_customer", Boolean, nullable=False),
        Column("corrects", Integer, nullable=True),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        PrimaryKeyConstraint("order_id", "seq", name="pk_journal_entries"),
        UniqueConstraint("order_id", "event_id", name="uq_journal_entries_order_id_event_id"),
        CheckConstraint("kind IN ('system', 'staff')", name="ck_journal_entries_kind"),
    )
    op.create_table(
        "journal_orders",
        Column("order_id", Uuid, nullable=False),
        Column("last_seq", Integer, nullable=False),
        Column("last_hash", String(64), nullable=False),
        Column("customer_id", String(200), nullable=True),
        Column("header", JSONB, nullable=False),
        PrimaryKeyConstraint("order_id", name="pk_journal_orders"),
    )
    op.create_index("ix_journal_orders_customer_id", "journal_orders", ["customer_id"])
    op.create_table(
        "actors",
        Column("kind", String(20), nullable=False),
        Column("id", String(200), nullable=False),
        Column("name", String(200), nullable=False),
        PrimaryKeyConstraint("kind", "id", name="pk_actors"),
    )
    op.create_table(
        "order_refs",
        Column("kind", String(20), nullable=False),
        Column("value", String(200), nullable=False),
        Column("order_id", Uuid, nullable=False),
        PrimaryKeyConstraint("kind", "value", "order_id", name="pk_order_refs"),
    )
    op.create_table(
        "parked_events",
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("kind", String(20), nullable=False),
        Column("value", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("parked_at", DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_parked_events_kind_value", "parked_events", ["kind", "value"])
    for statement in REFUSE:
        op.execute(statement)
    op.execute("REVOKE ALL ON journal_entries FROM PUBLIC")
    op.execute(ROLE)


def downgrade() -> None:
    op.drop_table("parked_events")
    op.drop_table("order_refs")
    op.drop_table("actors")
    op.drop_table("journal_orders")
    op.drop_table("journal_entries")
    op.execute("DROP FUNCTION journal_entries_refuse()")
