"""Alembic, the same way in every service: each service has ``migrations/`` whose ``env.py``
calls :func:`run_env`, and the database URL comes from the caller, never from the ini file."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection

from services.kit.db import create_engine

#: Revisions of the kit's own tables (outbox, inbox, idempotency keys), shared by every
#: service: each service's chain continues from the kit's last revision.
KIT_VERSIONS = Path(__file__).resolve().parent / "kit_migrations"

#: Advisory lock held while a process migrates its service's database.
MIGRATION_LOCK = 0x0_0B_0C_5E_D8_01


def alembic_config(service_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations",
        os.pathsep.join([str(service_dir / "migrations" / "versions"), str(KIT_VERSIONS)]),
    )
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(service_dir: Path, url: str, revision: str = "head") -> None:
    """Apply the service's migrations up to ``revision``."""
    command.upgrade(alembic_config(service_dir, url), revision)


def create_kit_tables() -> None:
    """The baseline of every service: the outbox and inbox tables of the kit, as they were
    when the baseline was written (later changes to them are migrations of their own)."""
    from alembic import op
    from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, String, Uuid, text
    from sqlalchemy.dialects.postgresql import JSONB

    op.create_table(
        "outbox",
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=True),
        Column("event_type", String(100), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("published_at", DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["id"], postgresql_where=text("published_at IS NULL")
    )
    op.create_table(
        "inbox",
        Column("consumer", String(100), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column(
            "received_at", DateTime(timezone=True), nullable=False, server_default=text("now()")
        ),
    )


def create_idempotency_table() -> None:
    """The table of ``Idempotency-Key`` answers (services.kit.idempotency)."""
    from alembic import op
    from sqlalchemy import Column, DateTime, Integer, PrimaryKeyConstraint, String, text
    from sqlalchemy.dialects.postgresql import JSONB

    op.create_table(
        "idempotency_keys",
        Column("scope", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("status", Integer, nullable=True),
        Column("body", JSONB, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    )


def create_parked_events_table() -> None:
    """The table of events parked until their order can take them (services.kit.parking)."""
    from alembic import op
    from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, String, Uuid

    op.create_table(
        "parked_events",
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("order_id", Uuid, nullable=False),
        Column("topic", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("parked_at", DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_parked_events_order_id", "parked_events", ["order_id"])


def create_outbox_notify_trigger() -> None:
    """The outbox's trigger that wakes the relay at commit (``kit.outbox.NOTIFY_TRIGGER``)."""
    from alembic import op

    from services.kit.outbox import NOTIFY_TRIGGER

    for statement in NOTIFY_TRIGGER:
        op.execute(statement)


def drop_outbox_notify_trigger() -> None:
    from alembic import op

    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION outbox_notify()")


def drop_kit_tables() -> None:
    from alembic import op

    op.drop_table("inbox")
    op.drop_table("outbox")


def run_env(metadata: MetaData | list[MetaData]) -> None:
    """Body of every service's ``env.py``: online migrations over asyncpg."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            # Replicas starting together migrate one after the other: the next one waits
            # here, then finds the schema at head and has nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(str(url), poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())
