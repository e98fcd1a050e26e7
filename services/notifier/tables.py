"""The notifier's own tables: its projection of orders, banners, mail intents, sent reminders
and support tickets (events parked until their order is known: ``services.kit.parking``)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.kit.db import new_metadata

metadata = new_metadata()

#: What the notifier knows of each order, from ``orders.events``.
orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("customer_id", String(200), nullable=False, index=True),
    Column("customer_name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("locale", String(10), nullable=False),
    Column("service_name", String(200), nullable=False),
    Column("status", String(40), nullable=False),
    Column("paid_until", Date, nullable=True),
    Column("main_ip", String(64), nullable=True, index=True),
)

banners = Table(
    "banners",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("cause", String(300), nullable=False, index=True),
    Column("customer_id", String(200), nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("placement", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("link", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("dismissed_at", DateTime(timezone=True), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Index(
        "ix_banners_active",
        "customer_id",
        "created_at",
        "id",
        postgresql_where=text("dismissed_at IS NULL AND resolved_at IS NULL"),
    ),
)

#: One row per email to send: recorded with the fact that caused it, sent after the commit.
mails = Table(
    "mails",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("order_id", Uuid, nullable=True),
    Column("kind", String(40), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(500), nullable=False),
    #: The language the mail is written in (``Content-Language``).
    Column("language", String(10), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    #: The W3C trace context the mail was queued in (None when the process did not trace):
    #: sending it later continues that trace.
    Column("trace_context", JSONB, nullable=True),
    Index("ix_mails_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
)

#: The reminders already sent: once per order, paid period and offset.
reminders = Table(
    "reminders",
    metadata,
    Column("order_id", Uuid, nullable=False),
    Column("paid_until", Date, nullable=False),
    Column("offset_days", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("order_id", "paid_until", "offset_days", name="pk_reminders"),
)

#: Orders and due dates an invoice reminder told: the renewal reminder for the same order and
#: date is the same thing to do, so the invoice's reminder takes its place.
invoice_due_dates = Table(
    "invoice_due_dates",
    metadata,
    Column("order_id", Uuid, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("invoice_id", Uuid, nullable=False),
    PrimaryKeyConstraint("order_id", "due_on", name="pk_invoice_due_dates"),
)

#: What staff are told about orders (the staff queue's list; ``staff_id``: whom it is for).
staff_notices = Table(
    "staff_notices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("staff_id", String(200), nullable=True),
    Column("staff_name", String(200), nullable=True),
    Column("text", Text, nullable=False),
    Column("link", String(300), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_staff_notices_created", "created_at", "id"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", String(200), nullable=False),
    Column("order_id", Uuid, nullable=True),
    Column("subject", String(200), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_tickets_customer", "customer_id", "created_at", "id"),
    Index("ix_tickets_created", "created_at", "id"),
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("ticket_id", Uuid, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("author_kind", String(20), nullable=False),
    Column("author_id", String(200), nullable=False),
    Column("author_name", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
