"""The notifier's tables: order projection, parked events, banners, mails, reminders, tickets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("service_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("paid_until", sa.Date, nullable=True),
        sa.Column("main_ip", sa.String(64), nullable=True),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    op.create_index("ix_orders_main_ip", "orders", ["main_ip"])
    op.create_table(
        "parked_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("parked_at", TZ, nullable=False),
    )
    op.create_index("ix_parked_events_order_id", "parked_events", ["order_id"])
    _banners()
    _mails()
    op.create_table(
        "reminders",
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("paid_until", sa.Date, nullable=False),
        sa.Column("offset_days", sa.Integer, nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "paid_until", "offset_days", name="pk_reminders"),
    )
    _tickets()


def _banners() -> None:
    op.create_table(
        "banners",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("cause", sa.String(300), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("placement", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("link", sa.String(300), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("dismissed_at", TZ, nullable=True),
        sa.Column("resolved_at", TZ, nullable=True),
    )
    op.create_index("ix_banners_cause", "banners", ["cause"])
    op.create_index(
        "ix_banners_active",
        "banners",
        ["customer_id", "created_at", "id"],
        postgresql_where=sa.text("dismissed_at IS NULL AND resolved_at IS NULL"),
    )


def _mails() -> None:
    op.create_table(
        "mails",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("order_id", sa.Uuid, nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
    )
    op.create_index(
        "ix_mails_pending",
        "mails",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def _tickets() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_tickets_customer", "tickets", ["customer_id", "created_at", "id"])
    op.create_index("ix_tickets_created", "tickets", ["created_at", "id"])
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Uuid,
            sa.ForeignKey("tickets.id", name="fk_ticket_messages_ticket_id_tickets"),
            nullable=False,
        ),
        sa.Column("author_kind", sa.String(20), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id"])


def downgrade() -> None:
    for table in (
        "ticket_messages",
        "tickets",
        "reminders",
        "mails",
        "banners",
        "parked_events",
        "orders",
    ):
        op.drop_table(table)
