"""Request and response models of the notifier's HTTP API, and its opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.kit.problems import ProblemError
from services.notifier.domain import NoticeKind, Placement, Severity


class InvalidCursor(ProblemError):
    status = 422
    title = "Invalid cursor"


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The position a cursor names; 422 when it is not one we gave out."""
    if cursor is None:
        return None
    try:
        created_at, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(created_at), UUID(row_id)
    except (ValueError, TypeError, binascii.Error) as error:
        raise InvalidCursor("The cursor is not one this API gave out") from error


def next_cursor(rows: list[Any], limit: int) -> str | None:
    """The cursor after the last row of a full page; ``None`` on the last page."""
    if len(rows) < limit:
        return None
    return encode_cursor(rows[-1].created_at, rows[-1].id)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Banner(_Out):
    """A notice shown in the customer panel until its cause ends (or, unless critical, the
    customer dismisses it)."""

    id: UUID
    order_id: UUID = Field(description="The order it concerns.")
    kind: NoticeKind
    severity: Severity
    placement: Placement = Field(description="Where it is shown: orders tab, dashboard or both.")
    text: str = Field(description="In the customer's language.")
    link: str = Field(
        description="Where in the panel it leads.", examples=["/orders/3f8e.../renew"]
    )
    dismissible: bool
    created_at: datetime


class BannerPage(BaseModel):
    """Active banners, newest first."""

    items: list[Banner]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class StaffNotice(_Out):
    """Something staff are told about an order, e.g. that a held order's reminder time came."""

    id: UUID
    kind: str = Field(description="`hold_reminder`: a held order's reminder time came.")
    order_id: UUID
    staff_id: str | None = Field(description="The staff member it is for; null: the queue's.")
    staff_name: str | None
    text: str
    link: str = Field(description="Where in the back office it leads.")
    due_at: datetime = Field(description="The time it is about (the hold's reminder time).")
    created_at: datetime


class StaffNoticePage(BaseModel):
    """Staff notices, newest first."""

    items: list[StaffNotice]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class TicketCreate(BaseModel):
    """A support request about one of the customer's orders."""

    model_config = ConfigDict(extra="forbid")

    order_id: UUID
    subject: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=5000)


class MessageCreate(BaseModel):
    """A reply on a ticket."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000)


class TicketMessage(_Out):
    id: UUID
    author_kind: str = Field(description="customer, staff or system")
    author_name: str
    body: str
    created_at: datetime


class TicketSummary(_Out):
    """A support ticket without its messages."""

    id: UUID
    customer_id: str
    order_id: UUID | None
    subject: str
    reason: str = Field(description="acceptance (opened by the system) or customer")
    created_at: datetime


class Ticket(TicketSummary):
    """A support ticket and its messages, oldest first."""

    messages: list[TicketMessage]


class TicketPage(BaseModel):
    """Tickets, newest first."""

    items: list[TicketSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")
