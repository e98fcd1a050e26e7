"""Commands of staff and their handlers, each ``handler(work, command, ctx, *, signer)``: a
staff entry (the "+" action) and the redaction of one's free text. Both are chained like any
entry and signed by the service; nothing is ever edited. None commits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from uuid import UUID

from services.audit.domain import StaffNote, StaffText, redaction_entry, staff_entry
from services.audit.errors import JournalNotFound
from services.audit.journal import Draft, Heads, append
from services.audit.repository import JournalRepository, StoredEntry
from services.audit.signing import Signer
from services.kit.context import Context
from services.kit.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class AddStaffEntry:
    order_id: UUID
    note: StaffNote


@dataclass(frozen=True, slots=True)
class RedactText:
    order_id: UUID
    seq: int


async def add_staff_entry(
    work: UnitOfWork, command: AddStaffEntry, ctx: Context, *, signer: Signer
) -> StoredEntry:
    """A user entry from the "+" action, chained like any other and signed by the service;
    nothing is ever edited. Its text is kept beside the journal, the entry commits to it."""
    order_id, note, actor, now = command.order_id, command.note, ctx.actor, ctx.now
    repo = JournalRepository(work.session)
    if await repo.journal(order_id) is None:
        raise JournalNotFound(f"No journal for order {order_id}")
    salt = secrets.token_hex(16)
    text = StaffText(note.details, salt)
    draft = Draft(
        content=lambda seq: staff_entry(order_id, seq, note, actor, now, salt),
        header=lambda _: None,
        actor=actor,
        sign=signer.sign_staff_entry,
    )
    # A request has no heads remembered: it appends under the head's lock.
    entry = await append(repo, Heads(), order_id, draft)
    await repo.keep_text(order_id, entry.seq, text)
    return StoredEntry(replace(entry, text=text), actor.name)


async def redact_text(
    work: UnitOfWork, command: RedactText, ctx: Context, *, signer: Signer
) -> StoredEntry:
    """Delete a staff entry's free text (a data-protection request) and journal that it was
    done, in a signed entry of its own. The redacted entry still verifies, as "redacted"."""
    order_id, actor, now = command.order_id, ctx.actor, ctx.now
    repo = JournalRepository(work.session)
    if await repo.journal(order_id) is None:
        raise JournalNotFound(f"No journal for order {order_id}")
    # Under the head's lock, so a second redaction of the same text finds it redacted.
    await repo.lock_journal(order_id)
    redacted = await repo.entry(order_id, command.seq)
    if redacted is None:
        raise JournalNotFound(f"No entry {command.seq} in the journal of order {order_id}")
    draft = Draft(
        content=lambda at: redaction_entry(order_id, at, redacted.entry, actor, now),
        header=lambda _: None,
        actor=actor,
        sign=signer.sign_staff_entry,
    )
    entry = await append(repo, Heads(), order_id, draft)
    await repo.redact_text(order_id, command.seq, now)
    return StoredEntry(entry, actor.name)
