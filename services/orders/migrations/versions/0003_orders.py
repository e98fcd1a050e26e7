"""Orders, the invoices known per order, the catalogue (seeded for local use) and saved views.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ORDERS = """
CREATE TABLE orders (
    id uuid PRIMARY KEY,
    created_at timestamptz NOT NULL,
    service_name varchar(200) NOT NULL,
    product varchar(100) NOT NULL,
    plan varchar(100) NOT NULL,
    price numeric(14, 2) NOT NULL,
    currency varchar(3) NOT NULL,
    period_months integer NOT NULL,
    customer_id varchar(200) NOT NULL,
    customer_name varchar(200) NOT NULL,
    customer_email varchar(320) NOT NULL,
    customer_locale varchar(8) NOT NULL,
    campaign varchar(200),
    comment text,
    status varchar(32) NOT NULL,
    paid_until date,
    accepted_at timestamptz,
    main_ip varchar(64),
    hold jsonb,
    completion jsonb,
    cancellation jsonb,
    scheduled_cancellation jsonb,
    violation_cases varchar(200)[] NOT NULL DEFAULT '{}',
    unpaid_invoices uuid[] NOT NULL DEFAULT '{}',
    remind_at timestamptz,
    cancel_at timestamptz,
    invoice_count integer NOT NULL DEFAULT 0,
    search_text text GENERATED ALWAYS AS (
        lower(service_name || ' ' || id::text || ' ' || coalesce(main_ip, '') || ' '
              || coalesce(comment, '') || ' ' || plan)
    ) STORED
)
"""

INDEXES = [
    "CREATE INDEX ix_orders_customer_created ON orders (customer_id, created_at, id)",
    "CREATE INDEX ix_orders_customer_service ON orders (customer_id, service_name, id)",
    "CREATE INDEX ix_orders_customer_paid_until"
    " ON orders (customer_id, coalesce(paid_until, DATE '9999-12-31'), id)",
    "CREATE INDEX ix_orders_customer_status ON orders (customer_id, status, id)",
    "CREATE INDEX ix_orders_created ON orders (created_at, id)",
    "CREATE INDEX ix_orders_service ON orders (service_name, id)",
    "CREATE INDEX ix_orders_paid_until ON orders (coalesce(paid_until, DATE '9999-12-31'), id)",
    "CREATE INDEX ix_orders_status ON orders (status, id)",
    "CREATE INDEX ix_orders_status_created ON orders (status, created_at, id)",
    "CREATE INDEX ix_orders_search ON orders USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX ix_orders_remind_at ON orders (remind_at) WHERE remind_at IS NOT NULL",
    "CREATE INDEX ix_orders_cancel_at ON orders (cancel_at) WHERE cancel_at IS NOT NULL",
]

OTHER_TABLES = [
    """CREATE TABLE order_invoices (
        order_id uuid NOT NULL,
        invoice_id uuid NOT NULL,
        state varchar(16) NOT NULL,
        CONSTRAINT pk_order_invoices PRIMARY KEY (order_id, invoice_id)
    )""",
    """CREATE TABLE products (id varchar(100) PRIMARY KEY, name varchar(200) NOT NULL)""",
    """CREATE TABLE plans (
        id varchar(100) PRIMARY KEY,
        product_id varchar(100) NOT NULL REFERENCES products (id),
        name varchar(200) NOT NULL,
        monthly_price numeric(14, 2) NOT NULL,
        currency varchar(3) NOT NULL,
        periods integer[] NOT NULL,
        active boolean NOT NULL DEFAULT true
    )""",
    """CREATE TABLE customer_views (
        customer_id varchar(200) PRIMARY KEY,
        columns varchar(32)[] NOT NULL
    )""",
]

#: A small catalogue so the local stack can take orders at once; staff edit it over HTTP.
SEED = [
    """INSERT INTO products (id, name) VALUES
        ('vps', 'Virtual private server'), ('dedicated', 'Dedicated server'),
        ('licence', 'Software licence')""",
    """INSERT INTO plans (id, product_id, name, monthly_price, currency, periods) VALUES
        ('vps-s', 'vps', 'VPS S', 4.00, 'EUR', '{1,3,6,12}'),
        ('vps-m', 'vps', 'VPS M', 8.00, 'EUR', '{1,3,6,12}'),
        ('vps-us', 'vps', 'VPS S (US)', 5.00, 'USD', '{1,12}'),
        ('ded-x', 'dedicated', 'Dedicated X', 49.00, 'EUR', '{1,12}'),
        ('lic-win', 'licence', 'Windows Server licence', 12.50, 'EUR', '{12}')""",
]


def upgrade() -> None:
    # pg_trgm backs the search bar's index; the test harness installs it too.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for statement in [ORDERS, *INDEXES, *OTHER_TABLES, *SEED]:
        op.execute(statement)


def downgrade() -> None:
    for table in ("customer_views", "plans", "products", "order_invoices", "orders"):
        op.drop_table(table)
