"""HTTP routes of the order journal: the page, the "+" action and redaction, verification
and export."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from services.audit import commands, journal
from services.audit.domain import EntryKind, StaffNote
from services.audit.lines import entry_line
from services.audit.repository import EntryFilter
from services.audit.schemas import (
    EntryOut,
    HeaderOut,
    JournalPageOut,
    StaffEntryIn,
    VerificationOut,
    decode_cursor,
    encode_cursor,
)
from services.audit.signing import Signer
from services.kit.auth import CurrentPrincipal, StaffPrincipal
from services.kit.problems import PROBLEM_RESPONSES
from services.kit.requests import Ctx, Idempotency, Work

router = APIRouter(
    prefix="/orders/{order_id}/journal", tags=["journal"], responses=PROBLEM_RESPONSES
)


def signer(request: Request) -> Signer:
    """The service's signing key (from settings, never the database)."""
    found: Signer = request.app.state.signer
    return found


@router.get("", response_model=JournalPageOut, summary="The journal page of an order")
async def journal_page(
    order_id: UUID,
    viewer: CurrentPrincipal,
    work: Work,
    order: Literal["newest", "oldest"] = "newest",
    kind: Annotated[list[EntryKind], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    type: Annotated[list[str], Query(description="Event types, e.g. order.held")] = [],  # noqa: B006
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JournalPageOut:
    """The order header, then the entries the caller may read, newest or oldest first,
    filtered by kind, type and the time they happened (``since`` inclusive, ``until``
    exclusive), one keyset page at a time. Staff read every journal; a customer reads the
    system entries of their own orders and the staff entries marked visible to them."""
    newest = order == "newest"
    wanted = EntryFilter(
        kinds=kind,
        types=type,
        since=since,
        until=until,
        newest_first=newest,
        after_seq=decode_cursor(cursor, newest) if cursor else None,
    )
    page = await journal.read_page(
        work, order_id=order_id, viewer=viewer, wanted=wanted, limit=limit
    )
    last = page.entries[-1].entry.seq if page.entries and page.more else None
    return JournalPageOut(
        header=HeaderOut.of(page.journal),
        entries=[EntryOut.of(stored) for stored in page.entries],
        next_cursor=None if last is None else encode_cursor(last, newest),
    )


@router.post(
    "/entries", response_model=EntryOut, status_code=201, summary='Add a staff entry ("+")'
)
async def add_entry(
    request: Request,
    order_id: UUID,
    body: StaffEntryIn,
    staff: StaffPrincipal,
    work: Work,
    ctx: Ctx,
    once: Idempotency,
) -> Any:
    """A user entry, chained like every other and signed by the service (a row inserted into
    the database by any other means fails verification). Nothing is ever edited: to correct an
    entry, add one with ``corrects`` set to its sequence number. The free text ``details`` is
    kept beside the journal, which commits to it salted (``details.text_commitment``), so it
    can be redacted later without breaking verification."""
    note = StaffNote(body.title, body.details, body.visible_to_customer, body.corrects)
    command = commands.AddStaffEntry(order_id, note)

    async def add() -> EntryOut:
        stored = await commands.add_staff_entry(work, command, ctx, signer=signer(request))
        return EntryOut.of(stored)

    return await once.answer(f"audit:entry:{staff.id}:{order_id}", body.model_dump(), add)


@router.post(
    "/entries/{seq}/redact", response_model=EntryOut, status_code=201,
    summary="Redact a staff entry's free text",
)  # fmt: skip
async def redact(
    request: Request, order_id: UUID, seq: int, _: StaffPrincipal, work: Work, ctx: Ctx
) -> EntryOut:
    """Delete the free text of a staff entry for good (a data-protection request) and journal
    the redaction in an entry of its own, which is returned. The redacted entry keeps its
    commitment to the text: its chain stays whole, and it verifies as "redacted". 409 when it
    was redacted before; 422 for an entry that has no free text."""
    command = commands.RedactText(order_id, seq)
    return EntryOut.of(await commands.redact_text(work, command, ctx, signer=signer(request)))


@router.get("/verify", response_model=VerificationOut, summary="Verify an order's journal")
async def verify(
    request: Request, order_id: UUID, viewer: CurrentPrincipal, work: Work
) -> VerificationOut:
    """Recompute the order's hash chain and the signatures of its staff entries: ``whole``
    with the head hash, or ``broken`` with the first sequence number where an entry was
    edited, deleted, swapped or inserted. This trusts the database's record of the chain's
    head; the signed checkpoints do not (see ``/journal/checkpoints``)."""
    await journal.readable_journal(work, order_id=order_id, viewer=viewer)
    result = await journal.verify_order(
        work, order_id=order_id, public_key=signer(request).public_key
    )
    return VerificationOut.of(result)


EXPORT_COLUMNS = [
    "order_id", "seq", "kind", "event_type", "event_id", "occurred_at", "recorded_at",
    "actor_kind", "actor_id", "summary", "details", "visible_to_customer", "corrects",
    "prev_hash", "hash", "signature", "text", "text_salt", "redacted", "actor_name",
]  # fmt: skip


@router.get(
    "/export",
    summary="Export an order's journal with its hashes",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
async def export(
    order_id: UUID,
    viewer: CurrentPrincipal,
    work: Work,
    format: Literal["jsonl", "csv"] = "jsonl",
) -> Response:
    """Every entry the caller may read, oldest first, one per line (JSON lines) or row (CSV).

    To verify outside the system: for each line drop ``prev_hash``, ``hash``, ``signature``,
    ``text``, ``text_salt``, ``redacted`` and ``actor_name`` (kept outside the hash); the rest
    is the hashed content. ``hash`` must equal
    ``sha256(canonical_json(content) + prev_hash)`` (canonical: keys sorted, no spaces, UTF-8;
    in CSV ``summary`` and ``details`` are such JSON texts), and each ``prev_hash`` the hash of
    the line before (64 zeros for the first). A customer's export leaves out staff entries
    not visible to them, so its chain shows gaps there. A staff entry's ``text`` must give
    ``sha256(text_salt || text) == details.text_commitment`` unless redacted. To check the
    journal against the signed checkpoints, see ``docs/journal-proofs.md``."""
    entries = await journal.read_all(
        work, order_id=order_id, viewer=viewer, wanted=EntryFilter(newest_first=False)
    )
    lines = [entry_line(stored) for stored in entries]
    if format == "csv":
        return Response(_csv(lines), media_type="text/csv")
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return Response(text, media_type="application/x-ndjson")


def _csv(lines: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for line in lines:
        cells = dict(line)
        for key in ("summary", "details"):
            cells[key] = json.dumps(
                line[key], sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
        writer.writerow(cells)
    return out.getvalue()
