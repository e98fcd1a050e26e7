"""The audit service's tables.

``journal_entries`` is the journal itself: append-only (triggers refuse UPDATE, DELETE and
TRUNCATE; the service's role may only INSERT and SELECT). The other tables are mutable and
hold no hashed content: ``journal_orders`` (each order's chain head and its header, with the
customer's name), ``actors`` (display names of who acted) and ``order_refs`` (invoices, main
IPs and incidents, to journal events that name those instead of an order) and
``parked_events`` (events naming such an identifier before the event that ties it to an order
was journaled: events of different topics arrive in any order).

``journal_leaves`` and ``checkpoints`` are the Merkle tree's side (append-only too): every
entry's place in the tree, in the order the checkpoint job took them in, and the signed tree
heads. ``staff_texts`` holds the free text of staff entries (the entries commit to it), the
one thing a redaction deletes.
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
    Text,
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
    #: The service's Ed25519 signature over ``hash`` (staff entries), outside the hash.
    Column("signature", String(128), nullable=True),
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

journal_leaves = Table(
    "journal_leaves",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("entry_hash", String(64), nullable=False),
    UniqueConstraint("order_id", "seq", name="uq_journal_leaves_order_id_seq"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("previous_size", BigInteger, nullable=False),
    Column("consistency_proof", JSONB, nullable=False),
)

staff_texts = Table(
    "staff_texts",
    metadata,
    Column("order_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text", Text, nullable=True),
    Column("salt", String(32), nullable=True),
    Column("redacted_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("order_id", "seq", name="pk_staff_texts"),
)
