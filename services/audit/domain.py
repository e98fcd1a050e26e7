"""The rules of the order journal: what an entry is, how entries are chained and checked,
which orders an event concerns, and the order header the journal page shows.

The hash chain
    Every entry of an order carries ``hash = sha256(canonical(content) + prev_hash)``, where
    ``content`` is the entry's hashed fields (order, sequence number, kind, type, event id,
    times, actor kind and id, summaries, details, visibility, the entry it corrects) and
    ``prev_hash`` is the hash of the entry before it (``GENESIS`` for the first). Editing,
    deleting, swapping or inserting an entry breaks the chain at that sequence number, and the
    order's head row (last sequence number and hash) catches a cut or extended tail.

Personal data and erasure
    Nothing that names or reaches a person is hashed or stored in the entries: the customer's
    name and email, a notification's recipient, the customer's comment and ticket subject are
    removed from the details (`scrub`), and an actor is hashed as kind and id only (a
    pseudonymous subject). Display names live in mutable tables beside the journal (the order
    header and the actor names), so erasing a person is an UPDATE of those rows, and every
    chain still verifies because none of the erased text was ever part of a hash.

    The free text staff write in a user entry is not hashed either: the entry commits to
    ``sha256(salt || text)`` (``text_commitment``) and the text and its random salt live
    beside the journal. Redacting the text deletes both; the entry then verifies as
    "redacted" (its chain is whole, its text can no longer be checked), and without the salt
    nobody can confirm a guess of what the text said. The title is hashed in clear.

Signatures
    A staff entry is signed by the service (Ed25519 over its chain hash) when staff add it
    through the API; a row a database login inserts has no valid signature and fails
    verification, however correctly its hashes are computed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from contracts.envelope import Actor, Envelope, MultiOrderData
from services.audit.errors import AlreadyRedacted, CorrectedEntryNotFound, NotRedactable

#: The ``prev_hash`` of an order's first entry.
GENESIS = "0" * 64

#: Keys whose values identify or reach a person; never journaled (see the module docstring).
PERSONAL_KEYS = frozenset({"email", "recipient", "comment", "subject"})


class EntryKind(StrEnum):
    """System entries come from events; staff entries from the "+" action."""

    SYSTEM = "system"
    STAFF = "staff"


@dataclass(frozen=True)
class Summary:
    """A short human-readable line about an entry, in each language the panel offers."""

    en: str
    de: str
    pl: str

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "de": self.de, "pl": self.pl}


@dataclass(frozen=True)
class EntryContent:
    """The hashed fields of one journal entry."""

    order_id: UUID
    seq: int
    kind: EntryKind
    event_type: str
    event_id: UUID | None
    occurred_at: datetime
    recorded_at: datetime
    actor_kind: str
    actor_id: str
    summary: Summary
    details: dict[str, Any]
    visible_to_customer: bool
    corrects: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The content as plain JSON values; also the shape of an export line."""
        return {
            "order_id": str(self.order_id),
            "seq": self.seq,
            "kind": str(self.kind),
            "event_type": self.event_type,
            "event_id": None if self.event_id is None else str(self.event_id),
            "occurred_at": timestamp(self.occurred_at),
            "recorded_at": timestamp(self.recorded_at),
            "actor_kind": self.actor_kind,
            "actor_id": self.actor_id,
            "summary": self.summary.as_dict(),
            "details": self.details,
            "visible_to_customer": self.visible_to_customer,
            "corrects": self.corrects,
        }


@dataclass(frozen=True)
class StaffText:
    """The free text of a staff entry, kept beside the journal (the entry commits to it);
    ``text`` and ``salt`` are None once redacted."""

    text: str | None
    salt: str | None
    redacted_at: datetime | None = None

    @property
    def redacted(self) -> bool:
        return self.text is None


def text_commitment(text: str, salt: str) -> str:
    """``sha256(salt || text)`` as hex; the salt (hex) keeps a short text from being guessed."""
    return hashlib.sha256(bytes.fromhex(salt) + text.encode()).hexdigest()


@dataclass(frozen=True)
class SealedEntry:
    """An entry with its place in the chain; a staff entry with the service's signature and
    its free text (both kept outside the hashed content)."""

    content: EntryContent
    prev_hash: str
    hash: str
    signature: str | None = None
    text: StaffText | None = None

    @property
    def seq(self) -> int:
        return self.content.seq


def timestamp(at: datetime) -> str:
    """The one text form of a time in hashed content: UTC with microseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(content: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8; what anyone can recompute outside."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(content: EntryContent, prev_hash: str) -> str:
    """``sha256(canonical(content) + prev_hash)`` as hex."""
    return hashlib.sha256(canonical(content.as_dict()) + prev_hash.encode()).hexdigest()


def seal(content: EntryContent, prev_hash: str) -> SealedEntry:
    """Chain an entry after the one whose hash is ``prev_hash``."""
    return SealedEntry(content, prev_hash, chain_hash(content, prev_hash))


@dataclass(frozen=True)
class Verification:
    """The outcome of checking one order's chain."""

    order_id: UUID
    whole: bool
    entries: int
    head_hash: str | None
    broken_at: int | None = None
    reason: str | None = None
    #: Staff entries whose text was redacted: whole, but their text can no longer be checked.
    redacted: tuple[int, ...] = ()


#: Whether a staff entry carries the service's valid signature.
SignatureCheck = Callable[[SealedEntry], bool]


def verify_chain(
    order_id: UUID,
    entries: Iterable[SealedEntry],
    head_seq: int,
    head_hash: str,
    signed: SignatureCheck,
) -> Verification:
    """Recompute an order's chain (entries in sequence order) against its recorded head.

    Reports the first sequence number where it breaks: a gap (deleted), an entry that does not
    follow its predecessor (swapped, inserted) or whose content no longer matches its hash, a
    staff entry the service did not sign, a staff text that does not match its commitment."""
    expected, prev, count, redacted = 1, GENESIS, 0, []
    for entry in entries:
        problem = _entry_problem(entry, expected, prev) or entry_problem(entry, signed)
        if problem is not None:
            return Verification(order_id, False, count, None, expected, problem)
        if text_redacted(entry):
            redacted.append(entry.seq)
        prev, expected, count = entry.hash, expected + 1, count + 1
    if count < head_seq:
        return Verification(order_id, False, count, None, count + 1, "entry missing")
    if count > head_seq:
        return Verification(order_id, False, count, None, head_seq + 1, "beyond the head")
    if prev != head_hash:
        return Verification(order_id, False, count, None, count, "head hash differs")
    return Verification(order_id, True, count, prev if count else None, redacted=tuple(redacted))


def _entry_problem(entry: SealedEntry, expected_seq: int, prev_hash: str) -> str | None:
    if entry.seq != expected_seq:
        return "entry missing" if entry.seq > expected_seq else "entry out of sequence"
    if entry.prev_hash != prev_hash:
        return "does not follow the previous entry"
    return None


def entry_problem(entry: SealedEntry, signed: SignatureCheck) -> str | None:
    """What is wrong with one entry on its own: content and hash, signature, text."""
    if chain_hash(entry.content, entry.prev_hash) != entry.hash:
        return "content does not match its hash"
    if entry.content.kind is EntryKind.STAFF and not signed(entry):
        return "staff entry not signed by the service"
    commitment = entry.content.details.get("text_commitment")
    text = entry.text
    # A redacted text (and its salt) is gone: nothing to check, the entry reads "redacted".
    if commitment is None or text is None or text.text is None or text.salt is None:
        return None
    if text_commitment(text.text, text.salt) != commitment:
        return "text does not match its commitment"
    return None


def text_redacted(entry: SealedEntry) -> bool:
    """A staff entry that commits to a text nobody holds any more."""
    has_commitment = "text_commitment" in entry.content.details
    return has_commitment and (entry.text is None or entry.text.text is None)


# --- which orders an event concerns --------------------------------------------------------


class RefKind(StrEnum):
    """Outside identifiers an event may name instead of an order."""

    INVOICE = "invoice"
    MAIN_IP = "main_ip"
    INCIDENT = "incident"


@dataclass(frozen=True)
class Ref:
    """An outside identifier and the order it belongs to (an invoice may have several)."""

    kind: RefKind
    value: str
    order_id: UUID


def direct_orders(event: Envelope[Any]) -> list[UUID]:
    """The orders an event names itself: every order of a multi-order event, else its
    envelope ``order_id``."""
    if isinstance(event.data, MultiOrderData):
        return list(event.data.concerned_order_ids)
    return [] if event.order_id is None else [event.order_id]


def lookup_key(event: Envelope[Any]) -> tuple[RefKind, str] | None:
    """The outside identifier to find the orders of an event by, when it names one."""
    data = event.data
    if event.type in {"payment.received", "payment.failed", "payment.recorded"}:
        invoice = getattr(data, "invoice_id", None)
        return None if invoice is None else (RefKind.INVOICE, str(invoice))
    if event.type == "incident.opened" and event.order_id is None:
        return RefKind.MAIN_IP, str(data.main_ip)
    if event.type == "incident.resolved":
        return RefKind.INCIDENT, str(data.incident_id)
    return None


def refs_to_remember(event: Envelope[Any], orders: Sequence[UUID]) -> list[Ref]:
    """Identifiers this event ties to its orders, for later events that name only those."""
    data = event.data
    if event.type == "invoice.issued":
        return [Ref(RefKind.INVOICE, str(data.invoice_id), order) for order in orders]
    if event.type in {"order.completed", "service.delivered"}:
        return [Ref(RefKind.MAIN_IP, str(data.main_ip), order) for order in orders]
    if event.type == "incident.opened":
        return [Ref(RefKind.INCIDENT, str(data.incident_id), order) for order in orders]
    return []


def merge_orders(direct: Sequence[UUID], looked_up: Iterable[UUID]) -> list[UUID]:
    """Every order concerned, each once, sorted: appends lock orders in one global order so
    two events about the same orders never deadlock."""
    return sorted({*direct, *looked_up})


# --- details ---------------------------------------------------------------------------------


def scrub(value: Any) -> Any:
    """A JSON value without personal data: no email, recipient or comment anywhere, and a
    customer object keeps its id and locale but loses its name."""
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if not isinstance(value, dict):
        return value
    cleaned = {key: scrub(item) for key, item in value.items() if key not in PERSONAL_KEYS}
    customer = cleaned.get("customer")
    if isinstance(customer, dict):
        cleaned["customer"] = {k: v for k, v in customer.items() if k != "name"}
    return cleaned


def event_details(event: Envelope[Any]) -> dict[str, Any]:
    """What a system entry keeps of its event: the scrubbed data and where it came from."""
    return {
        "data": scrub(event.data.model_dump(mode="json")),
        "producer": event.producer,
        "version": event.version,
        "correlation_id": str(event.correlation_id),
        "causation_id": None if event.causation_id is None else str(event.causation_id),
    }


def system_entry(
    order_id: UUID, seq: int, event: Envelope[Any], summary: Summary, recorded_at: datetime
) -> EntryContent:
    """The system entry of one event under one of its orders."""
    return EntryContent(
        order_id=order_id,
        seq=seq,
        kind=EntryKind.SYSTEM,
        event_type=event.type,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        recorded_at=recorded_at,
        actor_kind=str(event.actor.kind),
        actor_id=event.actor.id,
        summary=summary,
        details=event_details(event),
        visible_to_customer=True,
    )


@dataclass(frozen=True)
class StaffNote:
    """What staff write with the "+" action."""

    title: str
    details: str
    visible_to_customer: bool = False
    corrects: int | None = None


def staff_entry(
    order_id: UUID, seq: int, note: StaffNote, actor: Actor, now: datetime, salt: str
) -> EntryContent:
    """A user entry; a correction refers to an earlier sequence number and changes nothing.
    The entry commits to its text salted with ``salt`` (see "Personal data")."""
    if note.corrects is not None and not 1 <= note.corrects < seq:
        raise CorrectedEntryNotFound(f"Entry {note.corrects} is not in this order's journal")
    return EntryContent(
        order_id=order_id,
        seq=seq,
        kind=EntryKind.STAFF,
        event_type="staff.correction" if note.corrects is not None else "staff.note",
        event_id=None,
        occurred_at=now,
        recorded_at=now,
        actor_kind=str(actor.kind),
        actor_id=actor.id,
        summary=Summary(note.title, note.title, note.title),
        details={"title": note.title, "text_commitment": text_commitment(note.details, salt)},
        visible_to_customer=note.visible_to_customer,
        corrects=note.corrects,
    )


def redaction_entry(
    order_id: UUID, seq: int, redacted: SealedEntry, actor: Actor, now: datetime
) -> EntryContent:
    """The entry that journals a redaction: which entry's text was removed, by whom, when."""
    if redacted.content.kind is not EntryKind.STAFF or "text_commitment" not in (
        redacted.content.details
    ):
        raise NotRedactable(f"Entry {redacted.seq} has no free text to redact")
    if text_redacted(redacted):
        raise AlreadyRedacted(f"The text of entry {redacted.seq} is redacted already")
    title = f"Text of entry {redacted.seq} redacted"
    return EntryContent(
        order_id=order_id,
        seq=seq,
        kind=EntryKind.STAFF,
        event_type="staff.redaction",
        event_id=None,
        occurred_at=now,
        recorded_at=now,
        actor_kind=str(actor.kind),
        actor_id=actor.id,
        summary=Summary(
            title,
            f"Text von Eintrag {redacted.seq} geschwärzt",
            f"Tekst wpisu {redacted.seq} usunięty",
        ),
        details={"redacts": redacted.seq},
        visible_to_customer=False,
    )
