"""Tampering as an attacker with database access would, after a checkpoint: each found by
``verify_export`` (public key, exported journal, archived checkpoints) at its first bad entry,
though the database's own chain and head rows were made to agree; and no false alarm over
thousands of honest entries, redacted ones included."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faststream.kafka import KafkaBroker

from contracts import Actor, ActorKind
from deploy import roles
from services.audit.checkpoints import Leaf, make_checkpoint
from services.audit.domain import EntryContent, EntryKind, StaffNote, Summary, seal, staff_entry
from services.audit.signing import Signer, public_pem
from services.kit.runtime import asyncpg_dsn
from tests.apps import RunningService
from tests.audit import events as ev
from tests.audit import outside
from tests.audit.conftest import WRITER, verify
from tests.stack import Servers

Tamper = Callable[[asyncpg.Connection, UUID], Awaitable[None]]
COLUMNS = (
    "order_id, seq, kind, event_type, event_id, occurred_at, recorded_at, actor_kind, actor_id,"
    " summary, details, visible_to_customer, corrects, prev_hash, hash, signature"
)


def database_name(service: RunningService) -> str:
    return service.database_url.rsplit("/", 1)[1]


async def superuser(stack: Servers, service: RunningService) -> asyncpg.Connection:
    connection = await asyncpg.connect(stack.admin_url(database_name(service)))
    # Replica mode skips ordinary triggers (append-only): only a superuser can do this.
    await connection.execute("SET session_replication_role = replica")
    return connection


async def login(stack: Servers, service: RunningService, user: str) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_dsn(stack.database_url(database_name(service), user)))


def content_of_row(row: asyncpg.Record) -> EntryContent:
    return EntryContent(
        row["order_id"], row["seq"], EntryKind(row["kind"]), row["event_type"], row["event_id"],
        row["occurred_at"], row["recorded_at"], row["actor_kind"], row["actor_id"],
        Summary(**json.loads(row["summary"])), json.loads(row["details"]),
        row["visible_to_customer"], row["corrects"],
    )  # fmt: skip


async def move_head(db: asyncpg.Connection, order_id: UUID) -> None:
    await db.execute(
        "UPDATE journal_orders SET (last_seq, last_hash) = (SELECT seq, hash FROM journal_entries"
        " WHERE order_id = $1 ORDER BY seq DESC LIMIT 1) WHERE order_id = $1",
        order_id,
    )


async def forge_staff_entry(db: asyncpg.Connection, order_id: UUID) -> None:
    """A "Refund approved" staff entry by a staff id that does not exist, its hash computed
    correctly after the real head, and the head moved to it."""
    head = await db.fetchrow(
        "SELECT seq, hash FROM journal_entries WHERE order_id = $1 ORDER BY seq DESC LIMIT 1",
        order_id,
    )
    nobody = Actor(kind=ActorKind.STAFF, id="staff-does-not-exist", name="Nobody")
    note = StaffNote("Refund approved", "Refund of 4.00 EUR approved")
    entry = seal(
        staff_entry(order_id, head["seq"] + 1, note, nobody, ev.T0, "00" * 16), head["hash"]
    )
    row = {**entry.content.as_dict(), "prev_hash": entry.prev_hash, "hash": entry.hash}
    await db.execute(
        f"INSERT INTO journal_entries ({COLUMNS}) SELECT {COLUMNS} FROM"
        f" jsonb_populate_record(NULL::journal_entries, $1::jsonb)",
        json.dumps({**row, "signature": "ab" * 64}),
    )
    await move_head(db, order_id)


async def rehash_from(db: asyncpg.Connection, order_id: UUID, seq: int) -> None:
    """Edit entry ``seq`` and recompute every later hash and the head: a chain that agrees."""
    rows = await db.fetch(
        "SELECT * FROM journal_entries WHERE order_id = $1 ORDER BY seq", order_id
    )
    prev = rows[seq - 2]["hash"] if seq > 1 else "0" * 64
    for row in rows[seq - 1 :]:
        content = content_of_row(row)
        if row["seq"] == seq:
            content = replace(content, summary=Summary("Cancelled", "Storniert", "Anulowano"))
        entry = seal(content, prev)
        await db.execute(
            "UPDATE journal_entries SET summary = $3::jsonb, prev_hash = $4, hash = $5"
            " WHERE order_id = $1 AND seq = $2",
            order_id, row["seq"], json.dumps(content.summary.as_dict()), entry.prev_hash,
            entry.hash,
        )  # fmt: skip
        prev = entry.hash
    await move_head(db, order_id)


async def sql(db: asyncpg.Connection, order_id: UUID, *statements: str) -> None:
    for statement in statements:
        await db.execute(statement, *([order_id] if "$1" in statement else []))


async def test_each_tampering_after_a_checkpoint_is_found_at_its_first_bad_entry(
    audit: RunningService, kafka: KafkaBroker, prefix: str, stack: Servers, tmp_path: Path
) -> None:
    cases = [
        "deleted_tail", "forged_staff", "rehashed", "writer_forges", "owner_disabled_triggers",
        "reordered", "inserted", "deleted", "text_edited",
    ]  # fmt: skip
    untouched, *tampered = await outside.journaled(audit, kafka, prefix, 1 + len(cases))
    orders = dict(zip(cases, tampered, strict=True))
    await outside.staff_note(audit, untouched, "A remark")
    secret = await outside.staff_note(audit, untouched, "Anna Zielinska asked for a refund")
    assert (await outside.redact(audit, untouched, secret["seq"])).status_code == 201
    await outside.staff_note(audit, orders["text_edited"], "Customer was told to wait")
    await outside.checkpoint(audit)
    archive = await outside.archived_checkpoints(stack, prefix, 1)
    pem = await outside.public_key_pem(audit)
    assert (await outside.verify(audit, archive, pem)).whole

    admin = await superuser(stack, audit)
    writer = await login(stack, audit, WRITER)
    owner = await login(stack, audit, roles.OWNERS["audit"])  # who migrates
    try:
        await sql(
            admin, orders["deleted_tail"],
            "DELETE FROM journal_entries WHERE order_id = $1 AND seq >= 8",
        )  # fmt: skip
        await move_head(admin, orders["deleted_tail"])
        await forge_staff_entry(admin, orders["forged_staff"])
        await rehash_from(admin, orders["rehashed"], 2)
        await forge_staff_entry(writer, orders["writer_forges"])
        await sql(
            owner, orders["owner_disabled_triggers"],
            "ALTER TABLE journal_entries DISABLE TRIGGER USER",
            "UPDATE journal_entries SET details = '{}' WHERE order_id = $1 AND seq = 5",
            "ALTER TABLE journal_entries ENABLE TRIGGER USER",
        )  # fmt: skip
        await sql(
            admin, orders["reordered"],
            "UPDATE journal_entries SET seq = -1 WHERE order_id = $1 AND seq = 3",
            "UPDATE journal_entries SET seq = 3 WHERE order_id = $1 AND seq = 6",
            "UPDATE journal_entries SET seq = 6 WHERE order_id = $1 AND seq = -1",
        )  # fmt: skip
        await sql(
            admin, orders["inserted"],
            "UPDATE journal_entries SET seq = seq + 100 WHERE order_id = $1 AND seq >= 7",
            "UPDATE journal_entries SET seq = seq - 99 WHERE order_id = $1 AND seq >= 100",
            f"INSERT INTO journal_entries ({COLUMNS}) SELECT order_id, 7, kind, event_type,"
            " NULL, occurred_at, recorded_at, actor_kind, actor_id, summary, details,"
            " visible_to_customer, corrects, prev_hash, hash, signature FROM journal_entries"
            " WHERE order_id = $1 AND seq = 6",
        )  # fmt: skip
        await move_head(admin, orders["inserted"])
        await sql(
            admin, orders["deleted"], "DELETE FROM journal_entries WHERE order_id = $1 AND seq = 5"
        )
        await sql(
            writer, orders["text_edited"],
            "UPDATE staff_texts SET text = 'Refund approved' WHERE order_id = $1",
        )  # fmt: skip
    finally:
        for connection in (admin, writer, owner):
            await connection.close()

    # The database's own check is fooled where the attacker made chain and head agree ...
    for fooled in ("deleted_tail", "rehashed"):
        assert (await verify(audit, orders[fooled]))["status"] == "whole", fooled
    # ... the outsider is not.
    report = await outside.verify(audit, archive, pem)
    first = {}
    for finding in report.findings:
        first.setdefault(finding.order_id, (finding.seq, finding.reason))
    covers = "a checkpoint covers it, the journal lacks it"
    assert {case: first.get(str(order_id)) for case, order_id in orders.items()} == {
        "deleted_tail": (8, covers),
        "forged_staff": (10, "staff entry not signed by the service"),
        "rehashed": (2, "differs from what a checkpoint covers"),
        "writer_forges": (10, "staff entry not signed by the service"),
        "owner_disabled_triggers": (5, "content does not match its hash"),
        "reordered": (3, "does not follow the previous entry"),
        "inserted": (7, "does not follow the previous entry"),
        "deleted": (5, "entry missing"),
        "text_edited": (10, "text does not match its commitment"),
    }
    assert str(untouched) not in first, "no false alarm beside them"
    assert report.redacted == [(str(untouched), secret["seq"])]

    journal = await outside.exported_journal(audit)
    code, output = await outside.verify_command(tmp_path, journal, archive, pem)
    assert code == 1
    assert report.first_bad is not None
    assert f"BROKEN, first: {report.first_bad.describe()}" in output
    assert report.first_bad.leaf_index == min(
        f.leaf_index for f in report.findings if f.leaf_index is not None
    )


async def test_a_truncated_journal_is_found_from_the_first_entry(
    audit: RunningService, kafka: KafkaBroker, prefix: str, stack: Servers
) -> None:
    orders = await outside.journaled(audit, kafka, prefix, 2)
    await outside.checkpoint(audit)
    archive = await outside.archived_checkpoints(stack, prefix, 1)
    pem = await outside.public_key_pem(audit)
    first_leaf = archive[0]["leaves"][0]
    admin = await superuser(stack, audit)
    try:
        await admin.execute(
            "TRUNCATE journal_entries, journal_orders, journal_leaves, checkpoints, staff_texts"
        )
    finally:
        await admin.close()

    report = await outside.verify(audit, archive, pem)
    assert report.first_bad is not None
    assert (report.first_bad.order_id, report.first_bad.seq, report.first_bad.leaf_index) == (
        first_leaf["order_id"], first_leaf["seq"], 0,
    )  # fmt: skip
    assert len(report.findings) == 18
    assert {f.order_id for f in report.findings} == {str(o) for o in orders}


async def test_checkpoints_re_signed_with_another_key_are_refused(
    audit: RunningService, kafka: KafkaBroker, prefix: str, stack: Servers
) -> None:
    """The attacker rewrites an entry, then the tree and the checkpoints, signed with a key of
    their own, and serves that key: only a copy of the real key, and the archive, tell."""
    [order_id, _] = await outside.journaled(audit, kafka, prefix, 2)
    await outside.checkpoint(audit)
    archive = await outside.archived_checkpoints(stack, prefix, 1)
    pem = await outside.public_key_pem(audit)
    theirs = Signer(Ed25519PrivateKey.generate())
    admin = await superuser(stack, audit)
    try:
        await rehash_from(admin, order_id, 4)
        rows = await admin.fetch(
            "SELECT l.order_id, l.seq, e.hash FROM journal_leaves l JOIN journal_entries e"
            " USING (order_id, seq) ORDER BY leaf_index"
        )
        leaves = [Leaf(r["order_id"], r["seq"], r["hash"]) for r in rows]
        forged = make_checkpoint([leaf.hashed for leaf in leaves], None, theirs, ev.T0)
        await admin.execute("UPDATE journal_leaves l SET entry_hash = e.hash FROM journal_entries"
                            " e WHERE (e.order_id, e.seq) = (l.order_id, l.seq)")  # fmt: skip
        await admin.execute(
            "UPDATE checkpoints SET root_hash = $1, key_id = $2, signature = $3",
            forged.root_hash, forged.key_id, forged.signature,
        )  # fmt: skip
    finally:
        await admin.close()

    served = await outside.served_checkpoints(audit)
    forged_line = {**served[0], "issued_at": forged.signed_fields()["issued_at"]}
    report = await outside.verify(audit, [forged_line], pem)
    assert report.first_bad is not None
    assert report.first_bad.describe() == (
        "checkpoint of tree size 18: its signature does not verify with the public key"
    )
    assert (await outside.verify(audit, [forged_line], public_pem(theirs.public_key))).whole, (
        "with the attacker's key it all agrees: keep a copy of the real one"
    )
    from_archive = await outside.verify(audit, archive, pem)
    assert from_archive.first_bad is not None
    assert (from_archive.first_bad.order_id, from_archive.first_bad.seq) == (str(order_id), 4)


async def test_no_false_alarm_over_thousands_of_honest_entries(
    audit: RunningService, kafka: KafkaBroker, prefix: str, stack: Servers, tmp_path: Path
) -> None:
    orders: list[UUID] = []
    redacted = 0
    for wave in range(3):
        batch = await outside.journaled(audit, kafka, prefix, 100)
        orders += batch
        for n, order_id in enumerate(batch[:20]):
            note = await outside.staff_note(audit, order_id, f"Remark {wave}/{n} about Anna Z.")
            if n % 2:
                assert (await outside.redact(audit, order_id, note["seq"])).status_code == 201
                redacted += 1
        if wave < 2:  # the last wave stays after the last checkpoint
            await outside.checkpoint(audit)
    archive = await outside.archived_checkpoints(stack, prefix, 2)
    pem = await outside.public_key_pem(audit)
    journal = await outside.exported_journal(audit)
    assert len(journal) == 300 * 9 + 60 + 30
    code, output = await outside.verify_command(tmp_path, journal, archive, pem)
    assert (code, output[-1]) == (0, "whole"), output[-3:]
    assert output[1].endswith(f"{redacted} redacted")
    assert f"covering the first {2 * (100 * 9 + 30)} entries" in output[0]
    for order_id in orders[::37]:
        assert (await verify(audit, order_id))["status"] == "whole"
