"""Renewal events of ``orders.events``: one or several orders renewed through one invoice.

A renewal request may span several orders (batch renewal), so it is a `MultiOrderEvent`: its
envelope ``order_id`` is the first item's order, which keys it on Kafka; the items list them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal, Self
from uuid import UUID

from pydantic import Field, model_validator

from contracts.envelope import (
    Contract,
    Customer,
    Envelope,
    Money,
    MultiOrderData,
    MultiOrderEvent,
    ShortText,
    single_currency,
)


class RenewalItem(Contract):
    """One order of a renewal and the period it is renewed for."""

    order_id: UUID
    service_name: ShortText
    plan: ShortText
    """Tariff plan."""
    period_months: int = Field(ge=1, le=120)
    """The renewal period the customer chose."""
    price: Money
    """Price of the renewal period."""


class OrderRenewalRequestedData(MultiOrderData):
    """A customer (or staff for them) asked to renew one or more orders; billing invoices them."""

    renewal_id: UUID
    """Identifies the renewal; the invoice for it carries the same id."""
    customer: Customer
    items: list[RenewalItem] = Field(min_length=1)
    """The orders renewed, each once, all priced in one currency."""

    @model_validator(mode="after")
    def _one_currency_each_order_once(self) -> Self:
        single_currency(item.price for item in self.items)
        if len(set(self.concerned_order_ids)) != len(self.items):
            raise ValueError("each order appears once in a renewal")
        return self

    @property
    def concerned_order_ids(self) -> Sequence[UUID]:
        """The renewed orders, in the order of the items."""
        return [item.order_id for item in self.items]


class OrderRenewalRequested(MultiOrderEvent[OrderRenewalRequestedData]):
    """``order.renewal_requested``: renewal of one or more orders requested (no status change).

    The envelope ``order_id`` is the first item's order (Kafka key); use ``data.items`` for all.
    """

    type: Literal["order.renewal_requested"] = "order.renewal_requested"
    version: Literal[1] = 1


class OrderRenewedData(Contract):
    """The renewal invoice was paid; the paid period of this order moved on."""

    renewal_id: UUID | None
    """The renewal request it fulfils; null for a renewal invoice billing issued on its own."""
    invoice_id: UUID
    """The paid renewal invoice."""
    period_months: int = Field(ge=1, le=120)
    """The period added."""
    paid_until: date
    """The new last day of the paid period."""


class OrderRenewed(Envelope[OrderRenewedData]):
    """``order.renewed``: one order's paid-until date moved on (one event per renewed order)."""

    type: Literal["order.renewed"] = "order.renewed"
    version: Literal[1] = 1
    order_id: UUID
