"""Least privilege in the database: the audit service's login owns nothing and may only
append; no other service's login may even connect to the audit database."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from deploy import roles
from services.kit.runtime import asyncpg_dsn
from tests.apps import RunningService
from tests.audit.conftest import WRITER
from tests.stack import Servers

OTHERS = ["app", "orders_service", "billing_service", "notifier_service"]


def database_name(service: RunningService) -> str:
    return service.database_url.rsplit("/", 1)[1]


async def test_other_services_logins_cannot_connect_to_the_audit_database(
    audit: RunningService, stack: Servers
) -> None:
    for role in OTHERS:  # they exist, as deployed
        await stack.ensure_role(role)
    for role in OTHERS:
        url = asyncpg_dsn(stack.database_url(database_name(audit), role))
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await asyncpg.connect(url)


async def test_the_writer_owns_nothing_and_cannot_disable_the_triggers(
    audit: RunningService, stack: Servers
) -> None:
    writer = await asyncpg.connect(asyncpg_dsn(stack.database_url(database_name(audit), WRITER)))
    try:
        owned = await writer.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
        )
        assert owned == 0
        for statement in (
            "ALTER TABLE journal_entries DISABLE TRIGGER USER",
            "CREATE TABLE journal_copy (id int)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await writer.execute(statement)
    finally:
        await writer.close()


def test_postgres_init_sql_is_what_deploy_roles_defines() -> None:
    committed = (Path(roles.__file__).parent / "postgres-init.sql").read_text()
    assert committed == roles.init_sql(), "run `python -m deploy.roles`"
