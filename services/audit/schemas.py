"""Request and response models of the audit service's HTTP API."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.audit.checkpoints import Checkpoint
from services.audit.domain import EntryKind, Verification, text_redacted
from services.audit.header import Header
from services.audit.repository import OrderJournal, StoredEntry
from services.kit.problems import ProblemError


class InvalidCursor(ProblemError):
    status = 422
    title = "Invalid cursor"


class ActorOut(BaseModel):
    """Who acted. ``name`` is the current display name (kept outside the hash, erasable)."""

    kind: str
    id: str
    name: str | None


class SummaryOut(BaseModel):
    """The entry's one-line summary in each language."""

    en: str
    de: str
    pl: str


class EntryOut(BaseModel):
    """One journal entry with its place in the order's hash chain."""

    seq: int = Field(description="Sequence number within the order, from 1.")
    kind: EntryKind
    type: str = Field(description="Event type, or `staff.note` / `staff.correction`.")
    event_id: UUID | None
    occurred_at: datetime
    recorded_at: datetime
    actor: ActorOut
    summary: SummaryOut
    details: dict[str, Any]
    visible_to_customer: bool
    corrects: int | None = Field(description="The sequence number this entry corrects.")
    text: str | None = Field(
        default=None,
        description="A staff entry's free text (kept outside the hash, which commits to "
        "`details.text_commitment`); null once redacted.",
    )
    redacted: bool = Field(default=False, description="The free text was redacted.")
    prev_hash: str
    hash: str
    signature: str | None = Field(
        default=None, description="Staff entries: the service's Ed25519 signature of `hash`."
    )

    @classmethod
    def of(cls, stored: StoredEntry) -> EntryOut:
        c = stored.entry.content
        text = stored.entry.text
        return cls(
            seq=c.seq,
            kind=c.kind,
            type=c.event_type,
            event_id=c.event_id,
            occurred_at=c.occurred_at,
            recorded_at=c.recorded_at,
            actor=ActorOut(kind=c.actor_kind, id=c.actor_id, name=stored.actor_name),
            summary=SummaryOut(**c.summary.as_dict()),
            details=c.details,
            visible_to_customer=c.visible_to_customer,
            corrects=c.corrects,
            text=None if text is None else text.text,
            redacted=text_redacted(stored.entry),
            prev_hash=stored.entry.prev_hash,
            hash=stored.entry.hash,
            signature=stored.entry.signature,
        )


class HeaderOut(BaseModel):
    """The order header of the journal page, built from the events journaled so far.

    ``status_details`` depend on the status: on hold: `reason`, `held_by`, `held_at`,
    `remind_at`, `held_from`; cancelled: `reason`, `cancelled_by`, `cancelled_at`, `mode`;
    suspended: `cause`, `reason`, `suspended_by`, `suspended_at` of the cause that gives the
    status, and `suspensions`, every cause that suspends the order (`cause`, `ref`: its case
    or invoice, `reason`, `suspended_by`, `suspended_at`); a scheduled cancellation adds
    `cancels_at` and `cancel_reason`. The package shows once the order is completed."""

    order_id: UUID
    customer_id: str | None
    customer_name: str | None
    campaign: str | None
    service_name: str | None
    product: str | None
    plan: str | None
    placed_at: datetime | None
    status: str | None
    status_details: dict[str, Any]
    package: str | None
    starts_on: str | None
    completed_by: ActorOut | None
    completed_at: datetime | None

    @classmethod
    def of(cls, journal: OrderJournal) -> HeaderOut:
        h: Header = journal.header
        return cls(
            order_id=journal.order_id,
            customer_id=h.customer_id,
            customer_name=h.customer_name,
            campaign=h.campaign,
            service_name=h.service_name,
            product=h.product,
            plan=h.plan,
            placed_at=h.placed_at,
            status=h.status,
            status_details=h.details,
            package=h.package,
            starts_on=h.starts_on,
            completed_by=ActorOut(**h.completed_by) if h.completed_by else None,
            completed_at=h.completed_at,
        )


class JournalPageOut(BaseModel):
    """The journal page: the header, then one page of entries."""

    header: HeaderOut
    entries: list[EntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class StaffEntryIn(BaseModel):
    """A user entry ("+"): nothing is edited, a correction names the entry it corrects."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, examples=["Called the customer"])
    details: str = Field(min_length=1, max_length=4000)
    visible_to_customer: bool = False
    corrects: int | None = Field(default=None, ge=1, description="Sequence number corrected.")


class VerificationOut(BaseModel):
    """The outcome of recomputing an order's hash chain."""

    order_id: UUID
    status: Literal["whole", "broken"]
    entries: int = Field(description="Entries checked before the end or the break.")
    head_hash: str | None = Field(description="Hash of the last entry, when whole.")
    broken_at: int | None = Field(description="First sequence number where the chain breaks.")
    reason: str | None
    redacted: list[int] = Field(
        default=[],
        description="Staff entries whose text was redacted: part of a whole chain, but their "
        "text can no longer be checked against its commitment.",
    )

    @classmethod
    def of(cls, result: Verification) -> VerificationOut:
        return cls(
            order_id=result.order_id,
            status="whole" if result.whole else "broken",
            entries=result.entries,
            head_hash=result.head_hash,
            broken_at=result.broken_at,
            reason=result.reason,
            redacted=list(result.redacted),
        )


class PublicKeyOut(BaseModel):
    """The key that signs checkpoints and staff entries."""

    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str = Field(description="First 16 hex digits of SHA-256 of the raw public key.")
    public_key_hex: str = Field(description="The raw 32-byte public key, hex.")
    public_key_pem: str


class CheckpointOut(BaseModel):
    """A signed tree head over the first `tree_size` journal entries, with the proof that it
    extends the checkpoint before it (RFC 9162 Merkle tree; see docs/journal-proofs.md)."""

    tree_size: int
    root_hash: str
    issued_at: str = Field(
        description="UTC, microseconds, exactly as signed.",
        examples=["2026-12-01T23:00:00.000000Z"],
    )
    key_id: str
    signature: str = Field(
        description="Ed25519, hex, over the canonical JSON of `issued_at`, `key_id`, `log`, "
        "`purpose` (`checkpoint`), `root_hash` and `tree_size`."
    )
    previous_size: int
    consistency_proof: list[str]

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> CheckpointOut:
        return cls(**checkpoint.as_dict())


class EntryProofOut(BaseModel):
    """An entry with its proof of inclusion in a signed checkpoint; checkable offline with the
    public key alone (docs/journal-proofs.md)."""

    entry: dict[str, Any] = Field(description="The entry as an export line.")
    leaf_index: int
    checkpoint: CheckpointOut
    inclusion_path: list[str] = Field(description="RFC 9162 audit path, leaf to root, hex.")


def encode_cursor(seq: int, newest_first: bool) -> str:
    raw = json.dumps({"after": seq, "newest": newest_first}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, newest_first: bool) -> int:
    """The sequence number a cursor continues after; refuses one of another sort order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        after, newest = int(value["after"]), bool(value["newest"])
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidCursor("The cursor is not one this API gave out") from error
    if newest != newest_first:
        raise InvalidCursor("The cursor belongs to the other sort order")
    return after
