"""The orders service's tables (SQLAlchemy Core); migrations 0003+ create them."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.kit.db import new_metadata

metadata = new_metadata()

#: What the search bar looks through: the order's visible text, lower-cased, kept by Postgres.
SEARCH_TEXT = (
    "lower(service_name || ' ' || id::text || ' ' || coalesce(main_ip, '') || ' ' "
    "|| coalesce(comment, '') || ' ' || plan)"
)

orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("service_name", String(200), nullable=False),
    Column("product", String(100), nullable=False),
    Column("plan", String(100), nullable=False),
    Column("price", Numeric(14, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period_months", Integer, nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("customer_name", String(200), nullable=False),
    Column("customer_email", String(320), nullable=False),
    Column("customer_locale", String(8), nullable=False),
    Column("campaign", String(200)),
    Column("comment", Text),
    Column("status", String(32), nullable=False),
    Column("paid_until", Date),
    Column("accepted_at", DateTime(timezone=True)),
    Column("main_ip", String(64)),
    # Status-specific details, each present exactly while it applies (see domain.Order).
    Column("hold", JSONB),
    Column("completion", JSONB),
    Column("cancellation", JSONB),
    Column("scheduled_cancellation", JSONB),
    Column("violation_cases", ARRAY(String(200)), nullable=False, server_default="{}"),
    Column("unpaid_invoices", ARRAY(Uuid), nullable=False, server_default="{}"),
    # Due times of the scheduled work, set only while pending, so the jobs use small indexes.
    Column("remind_at", DateTime(timezone=True)),
    Column("cancel_at", DateTime(timezone=True)),
    Column("invoice_count", Integer, nullable=False, server_default="0"),
    Column("search_text", Text, Computed(SEARCH_TEXT, persisted=True)),
)

#: Where a never-paid order sorts by paid_until: after every date. Cast from text in SQL, never
#: sent as a date: asyncpg sends ``date.max`` as ``infinity``, which sorts after 9999-12-31.
NEVER_PAID = literal("9999-12-31").cast(Date)
#: Sort keys of the order list; paid_until sorts never-paid orders last (ascending).
PAID_UNTIL_KEY = func.coalesce(orders.c.paid_until, NEVER_PAID)

Index("ix_orders_customer_created", orders.c.customer_id, orders.c.created_at, orders.c.id)
Index("ix_orders_customer_service", orders.c.customer_id, orders.c.service_name, orders.c.id)
Index("ix_orders_customer_paid_until", orders.c.customer_id, PAID_UNTIL_KEY, orders.c.id)
Index("ix_orders_customer_status", orders.c.customer_id, orders.c.status, orders.c.id)
# The staff list over every customer, in each sort order.
Index("ix_orders_created", orders.c.created_at, orders.c.id)
Index("ix_orders_service", orders.c.service_name, orders.c.id)
Index("ix_orders_paid_until", PAID_UNTIL_KEY, orders.c.id)
Index("ix_orders_status", orders.c.status, orders.c.id)
Index("ix_orders_status_created", orders.c.status, orders.c.created_at, orders.c.id)
Index(
    "ix_orders_search",
    orders.c.search_text,
    postgresql_using="gin",
    postgresql_ops={"search_text": "gin_trgm_ops"},
)
Index("ix_orders_remind_at", orders.c.remind_at, postgresql_where=text("remind_at IS NOT NULL"))
Index("ix_orders_cancel_at", orders.c.cancel_at, postgresql_where=text("cancel_at IS NOT NULL"))

#: Invoices billing told us about, per order: for the invoice count and to ignore stale dunning.
order_invoices = Table(
    "order_invoices",
    metadata,
    Column("order_id", Uuid, nullable=False),
    Column("invoice_id", Uuid, nullable=False),
    Column("state", String(16), nullable=False),  # issued, paid, voided
    PrimaryKeyConstraint("order_id", "invoice_id"),
)

products = Table(
    "products",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
)

plans = Table(
    "plans",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("product_id", String(100), ForeignKey("products.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("monthly_price", Numeric(14, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("periods", ARRAY(Integer), nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
)

#: The extra columns each customer switched on in the list's "Show:" menu.
customer_views = Table(
    "customer_views",
    metadata,
    Column("customer_id", String(200), primary_key=True),
    Column("columns", ARRAY(String(32)), nullable=False),
)
