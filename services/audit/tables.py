"""The audit service's tables.

``journal_entries`` is the journal itself: append-only (triggers refuse UPDATE, DELETE and
TRUNCATE; the service's role may only INSERT and SELECT). The other tables are mutable and
hold no hashed content: ``journal_orders`` (each order's chain head and its header, with the
customer's name), ``actors`` (display names of who acted) and ``order_refs`` (invoices, main
IPs and incidents, to journal events that name those instead of an order) and
``parked_events`` (events naming such an identifier before the event that ties it to an order
was journaled: events of different topics arrive in any order).
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.kit.db import new_metadata

metadata = new_metadata()

journal_entries = Table(
    "journal_entries",
    metadata,
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
    # A second guard beside the inbox: one entry per event and order, whatever happens.
    UniqueConstraint("order_id", "event_id", name="uq_journal_entries_order_id_event_id"),
    CheckConstraint("kind IN ('system', 'staff')", name="kind"),
)

journal_orders = Table(
    "journal_orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("customer_id", String(200), nullable=True, index=True),
    Column("header", JSONB, nullable=False),
)

actors = Table(
    "actors",
    metadata,
    Column("kind", String(20), nullable=False),
    Column("id", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    PrimaryKeyConstraint("kind", "id", name="pk_actors"),
)

order_refs = Table(
    "order_refs",
    metadata,
    Column("kind", String(20), nullable=False),
    Column("value", String(200), nullable=False),
    Column("order_id", Uuid, nullable=False),
    PrimaryKeyConstraint("kind", "value", "order_id", name="pk_order_refs"),
)

parked_events = Table(
    "parked_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("value", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
    Index("ix_parked_events_kind_value", "kind", "value"),
)
