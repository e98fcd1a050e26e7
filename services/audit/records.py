"""How the journal's rows are written and read: an entry as its row and back, and the
statement that appends one after a head only when that head is still current."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    Column,
    Row,
    TextClause,
    bindparam,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from services.audit.domain import (
    EntryContent,
    EntryKind,
    SealedEntry,
    StaffText,
    Summary,
)
from services.audit.tables import (
    journal_entries,
    order_refs,
    parked_events,
)


def entry_row(entry: SealedEntry) -> dict[str, Any]:
    c = entry.content
    return {
        "order_id": c.order_id,
        "seq": c.seq,
        "kind": str(c.kind),
        "event_type": c.event_type,
        "event_id": c.event_id,
        "occurred_at": c.occurred_at,
        "recorded_at": c.recorded_at,
        "actor_kind": c.actor_kind,
        "actor_id": c.actor_id,
        "summary": c.summary.as_dict(),
        "details": c.details,
        "visible_to_customer": c.visible_to_customer,
        "corrects": c.corrects,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "signature": entry.signature,
    }


def sealed(row: Row[Any]) -> SealedEntry:
    content = EntryContent(
        order_id=row.order_id,
        seq=row.seq,
        kind=EntryKind(row.kind),
        event_type=row.event_type,
        event_id=row.event_id,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        summary=Summary(**row.summary),
        details=row.details,
        visible_to_customer=row.visible_to_customer,
        corrects=row.corrects,
    )
    text = None
    if row.staff_text is not None or row.staff_redacted_at is not None:
        text = StaffText(row.staff_text, row.staff_salt, row.staff_redacted_at)
    return SealedEntry(content, row.prev_hash, row.hash, row.signature, text)


_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


def typed(column: Column[Any]) -> str:
    # Without the length: a cast to varchar(n) would cut a longer value short silently
    # (and the stored content would no longer match its hash); the column refuses it instead.
    sql_type = re.sub(r"\(\d+\)", "", column.type.compile(dialect=_PG))
    return f"CAST(:{column.name} AS {sql_type})"


_ENTRY = ", ".join(column.name for column in journal_entries.columns)
_TYPED_ENTRY = ",\n        ".join(
    f"{typed(column)} AS {column.name}" for column in journal_entries.columns
)


def append_statement(header_set: str, header_check: str) -> TextClause:
    """One round trip per append: the actor's name remembered (written only when new or
    changed, so the usual case takes no row lock), the head moved on if it is where the
    caller saw it, and the entry inserted only if the head moved."""
    return text(f"""
WITH new AS (
    SELECT {_TYPED_ENTRY},
        CAST(:actor_name AS varchar) AS actor_name
), actor AS (
    INSERT INTO actors (kind, id, name)
    SELECT actor_kind, actor_id, actor_name FROM new
    WHERE NOT EXISTS (
        SELECT FROM actors
        WHERE (kind, id, name) = (new.actor_kind, new.actor_id, new.actor_name)
    )
    ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name
), head AS (
    UPDATE journal_orders AS h SET last_seq = new.seq, last_hash = new.hash{header_set}
    FROM new
    WHERE h.order_id = new.order_id AND h.last_seq = new.seq - 1
        AND h.last_hash = new.prev_hash{header_check}
    RETURNING h.order_id
)
INSERT INTO journal_entries ({_ENTRY})
SELECT {_ENTRY} FROM new WHERE EXISTS (SELECT FROM head)
RETURNING seq
""")


def jsonb(statement: TextClause, *names: str) -> TextClause:
    return statement.bindparams(*(bindparam(name, type_=JSONB) for name in names))


APPEND = jsonb(append_statement("", ""), "summary", "details")
APPEND_WITH_HEADER = jsonb(
    append_statement(
        ", header = CAST(:header AS jsonb), customer_id = CAST(:customer_id AS varchar)",
        " AND h.header = CAST(:old_header AS jsonb)",
    ),
    *("summary", "details", "header", "old_header"),
)


#: Identifiers tied to their orders and the events parked under them taken out: one statement
#: whatever the number of identifiers, compiled once.
REMEMBER_REFS = (
    text("""
WITH remembered AS (
    INSERT INTO order_refs (kind, value, order_id)
    SELECT * FROM unnest(:kinds, :values, :order_ids)
    ON CONFLICT DO NOTHING
)
DELETE FROM parked_events
WHERE (kind, value) IN (SELECT * FROM unnest(:kinds, :values))
RETURNING id, topic, payload
""")
    .bindparams(
        bindparam("kinds", type_=postgresql.ARRAY(order_refs.c.kind.type)),
        bindparam("values", type_=postgresql.ARRAY(order_refs.c.value.type)),
        bindparam("order_ids", type_=postgresql.ARRAY(order_refs.c.order_id.type)),
    )
    .columns(parked_events.c.id, parked_events.c.topic, parked_events.c.payload)
)
