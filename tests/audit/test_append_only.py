"""Append-only in PostgreSQL, and tampering that gets past it shows in the hash chain."""

from __future__ import annotations

import asyncio
import json
import sys
from uuid import UUID, uuid4

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from deploy import roles
from services.kit.runtime import asyncpg_dsn
from tests.apps import RunningService
from tests.audit import events as ev
from tests.audit.conftest import STAFF, WRITER, entry_count, publish, verify
from tests.stack import Servers

REFUSALS = [
    "UPDATE journal_entries SET summary = '{}'",
    "DELETE FROM journal_entries",
    "TRUNCATE journal_entries",
]


def database_name(service: RunningService) -> str:
    return service.database_url.rsplit("/", 1)[1]


async def journaled(service: RunningService, kafka: KafkaBroker, prefix: str, n: int) -> list[UUID]:
    orders = [uuid4() for _ in range(n)]
    for order_id in orders:
        await publish(kafka, prefix, *ev.lifecycle(order_id))
    for order_id in orders:
        await entry_count(service, order_id, 9)
    return orders


@pytest.mark.parametrize("role", ["owner", "writer"])
async def test_update_delete_truncate_are_refused(
    audit: RunningService, kafka: KafkaBroker, prefix: str, stack: Servers, role: str
) -> None:
    [order_id] = await journaled(audit, kafka, prefix, 1)
    user = roles.OWNERS["audit"] if role == "owner" else WRITER
    url = asyncpg_dsn(stack.database_url(database_name(audit), user=user))
    connection = await asyncpg.connect(url)
    try:
        for statement in REFUSALS:
            with pytest.raises(asyncpg.InsufficientPrivilegeError) as refused:
                await connection.execute(statement)
            expected = "append-only" if role == "owner" else "permission denied"
            assert expected in str(refused.value)
        if role == "writer":  # what the service needs still works
            assert await connection.fetchval("SELECT count(*) FROM journal_entries") == 9
    finally:
        await connection.close()
    assert (await verify(audit, order_id))["status"] == "whole"


TAMPERING = {
    "edited": [
        'UPDATE journal_entries SET summary = \'{"en":"x","de":"x","pl":"x"}\''
        " WHERE order_id = $1 AND seq = 4"
    ],
    "deleted": ["DELETE FROM journal_entries WHERE order_id = $1 AND seq = 5"],
    "swapped": [
        "UPDATE journal_entries SET seq = -1 WHERE order_id = $1 AND seq = 3",
        "UPDATE journal_entries SET seq = 3 WHERE order_id = $1 AND seq = 6",
        "UPDATE journal_entries SET seq = 6 WHERE order_id = $1 AND seq = -1",
    ],
    "inserted": [
        "UPDATE journal_entries SET seq = seq + 100 WHERE order_id = $1 AND seq >= 7",
        "UPDATE journal_entries SET seq = seq - 99 WHERE order_id = $1 AND seq >= 100",
        "INSERT INTO journal_entries SELECT order_id, 7, kind, 'staff.note', NULL, occurred_at,"
        " recorded_at, actor_kind, actor_id, summary, details, visible_to_customer, corrects,"
        " prev_hash, hash FROM journal_entries WHERE order_id = $1 AND seq = 6",
    ],
    "appended": [
        "INSERT INTO journal_entries SELECT order_id, 10, kind, 'staff.note', NULL, occurred_at,"
        " recorded_at, actor_kind, actor_id, summary, details, visible_to_customer, corrects,"
        " hash, hash FROM journal_entries WHERE order_id = $1 AND seq = 9",
    ],
}
BROKEN_AT = {"edited": 4, "deleted": 5, "swapped": 3, "inserted": 7, "appended": 10}


async def test_tampering_past_the_triggers_is_found_at_its_sequence_number(
    audit: RunningService, kafka: KafkaBroker, prefix: str, stack: Servers
) -> None:
    untouched, *tampered = await journaled(audit, kafka, prefix, 1 + len(TAMPERING))
    superuser = await asyncpg.connect(stack.admin_url(database_name(audit)))
    try:
        # Replica mode skips ordinary triggers: only a superuser can do this.
        await superuser.execute("SET session_replication_role = replica")
        for order_id, statements in zip(tampered, TAMPERING.values(), strict=True):
            for statement in statements:
                await superuser.execute(statement, order_id)
    finally:
        await superuser.close()

    whole = await verify(audit, untouched)
    export = await audit.http.get(f"/orders/{untouched}/journal/export", headers=STAFF)
    assert whole["status"] == "whole"
    assert whole["entries"] == 9
    assert whole["head_hash"] == json.loads(export.text.splitlines()[-1])["hash"]
    for order_id, case in zip(tampered, TAMPERING, strict=True):
        result = await verify(audit, order_id)
        assert (case, result["status"], result["broken_at"]) == (case, "broken", BROKEN_AT[case])

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.audit.verify", "--database-url", audit.database_url,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, _ = await process.communicate()
    lines = output.decode().splitlines()
    assert process.returncode == 1
    assert f"{untouched} whole 9 entries, head {whole['head_hash']}" in lines
    for order_id, case in zip(tampered, TAMPERING, strict=True):
        assert any(line.startswith(f"{order_id} broken at {BROKEN_AT[case]}:") for line in lines)
