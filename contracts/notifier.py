"""Events of ``notifier.events``: what the customer was told, published by the notifier service.

The envelope ``order_id`` is set when the notification or ticket concerns an order, else null.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts.envelope import Contract, Envelope, ShortText, Text, Topic


class NotificationChannel(StrEnum):
    """How a notification reaches the customer."""

    EMAIL = "email"
    BANNER = "banner"


class TicketReason(StrEnum):
    """Why a support ticket was opened."""

    ACCEPTANCE = "acceptance"
    """Confirms that an order was accepted for processing."""
    CUSTOMER = "customer"
    """The customer opened it from the order's actions menu."""


class NotificationDeliveredData(Contract):
    """A notification reached its channel (the mail server accepted it, or the banner is shown)."""

    notification_id: UUID
    channel: NotificationChannel
    kind: ShortText
    """What it is about, e.g. ``renewal_reminder``, ``suspension``, ``incident``."""
    recipient: ShortText
    """The email address, or the customer id for a banner."""


class NotificationDelivered(Envelope[NotificationDeliveredData]):
    """``notification.delivered``: the customer was told."""

    type: Literal["notification.delivered"] = "notification.delivered"
    version: Literal[1] = 1


class NotificationFailedData(Contract):
    """A notification could not be delivered and will not be retried any more."""

    notification_id: UUID
    channel: NotificationChannel
    kind: ShortText
    """What it is about, e.g. ``renewal_reminder``, ``suspension``, ``incident``."""
    recipient: ShortText
    """The email address, or the customer id for a banner."""
    error: Text
    """The last error."""
    attempts: int = Field(ge=1)
    """How many times delivery was tried."""


class NotificationFailed(Envelope[NotificationFailedData]):
    """``notification.failed``: delivery gave up."""

    type: Literal["notification.failed"] = "notification.failed"
    version: Literal[1] = 1


class TicketOpenedData(Contract):
    """A support ticket was opened for a customer."""

    ticket_id: UUID
    customer_id: ShortText
    subject: ShortText
    reason: TicketReason


class TicketOpened(Envelope[TicketOpenedData]):
    """``ticket.opened``: a support ticket exists (``order_id`` set when it is about an order)."""

    type: Literal["ticket.opened"] = "ticket.opened"
    version: Literal[1] = 1


NOTIFIER = Topic("notifier.events", NotificationDelivered, NotificationFailed, TicketOpened)
