"""Events of ``orders.events``: the order lifecycle, published by the orders service."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import EmailStr, Field

from contracts.envelope import Contract, Envelope, Money, Topic


class Customer(Contract):
    """The customer an order belongs to, as other services need to address them."""

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")


class OrderPlacedData(Contract):
    """A customer created an order in the panel; nothing is paid or prepared yet."""

    service_name: str
    product: str
    plan: str
    price: Money
    period_months: int = Field(ge=1, le=120)
    customer: Customer
    campaign: str | None = None
    comment: str | None = None


class OrderPlaced(Envelope[OrderPlacedData]):
    """``order.placed``: a new order exists (status: not processed)."""

    type: Literal["order.placed"] = "order.placed"
    version: Literal[1] = 1
    order_id: UUID


ORDERS = Topic("orders.events", OrderPlaced)
