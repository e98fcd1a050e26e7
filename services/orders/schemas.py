"""Request and response models of the orders API (they are its OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, IPvAnyAddress, field_validator

from contracts.envelope import Amount, Currency, ShortText, Text, UtcDatetime
from contracts.orders import CancellationMode, OrderStatus
from services.orders.catalogue import CURRENCIES
from services.orders.domain import By, Order
from services.orders.transitions import STATUS_LABELS, Action

Period = Annotated[int, Field(ge=1, le=120, description="Billing period in months.")]
ExtraColumn = Literal["comment", "batch_renewal", "id", "date"]
#: A service's first day. Paid periods, renewals and reminders are counted from it, here and in
#: the other services, so it keeps clear of the calendar's ends (from 9999-12-31 no paid-until
#: date can be counted).
ServiceStart = Annotated[
    date,
    Field(
        ge=date(1970, 1, 1),
        le=date(2999, 12, 31),
        description="The service's first day, 1970-01-01 to 2999-12-31.",
    ),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------


class PlaceOrder(Request):
    """A new order of a tariff plan for one of the periods the plan allows."""

    plan: ShortText = Field(examples=["vps-s"])
    period_months: Period
    campaign: ShortText | None = None
    comment: Text | None = None


class ChangeComment(Request):
    comment: Text | None = Field(description="The new comment; null clears it.")


class Cancel(Request):
    """Cancel at once, or at the end of the paid period (active or suspended orders)."""

    at_period_end: bool = False
    reason: Text | None = None


class Renew(Request):
    period_months: Period


class RenewalItemIn(Request):
    order_id: UUID
    period_months: Period


class BatchRenew(Request):
    """Several orders renewed together through one invoice."""

    items: list[RenewalItemIn] = Field(min_length=1, max_length=100)


class HoldOrder(Request):
    reason: Text
    remind_at: UtcDatetime = Field(description="When to remind staff of the order's deadline.")


class CompleteOrder(Request):
    contract: ShortText = Field(description="The package/contract the order produced.")
    starts_on: ServiceStart
    main_ip: IPvAnyAddress


class Suspend(Request):
    case_id: ShortText = Field(default="staff", description="The abuse case, if any.")
    reason: Text | None = None


class Lift(Request):
    case_id: ShortText | None = Field(default=None, description="Lift one case; null: all.")
    reason: Text | None = None


class Columns(BaseModel):
    """The extra columns switched on in the order list's "Show:" menu."""

    columns: list[ExtraColumn] = Field(max_length=4)

    @field_validator("columns")
    @classmethod
    def _each_once(cls, columns: list[str]) -> list[str]:
        if len(set(columns)) != len(columns):
            raise ValueError("each column may be chosen once")
        return columns


class PlanIn(Request):
    """A tariff plan as staff set it."""

    product: ShortText
    name: ShortText
    monthly_price: Amount
    currency: Currency
    periods: list[Period] = Field(min_length=1, max_length=12)
    active: bool = True

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, currency: str) -> str:
        if currency not in CURRENCIES:
            raise ValueError(f"unknown currency; one of {', '.join(sorted(CURRENCIES))}")
        return currency


class ProductIn(Request):
    name: ShortText


# --- responses --------------------------------------------------------------------------------


class Actor(BaseModel):
    kind: str
    id: str
    name: str

    @classmethod
    def of(cls, by: By) -> Actor:
        return cls(kind=by.kind.value, id=by.id, name=by.name)


class CustomerOut(BaseModel):
    id: str
    name: str


class Money(BaseModel):
    amount: Amount
    currency: str


class OrderRow(BaseModel):
    """One line of the order list (the panel's table)."""

    id: UUID
    created_at: datetime
    service_name: str
    product: str
    plan: str
    main_ip: str | None
    paid_until: date | None
    days_left: int | None = Field(description="Days to the last paid day, computed at read time.")
    status: OrderStatus
    status_label: str = Field(description="The status in words, for the row's style and icon.")
    price: Money
    period_months: int
    comment: str | None
    campaign: str | None
    invoice_count: int
    cancellation_scheduled_for: datetime | None
    customer: CustomerOut


class HoldOut(BaseModel):
    reason: str
    by: Actor
    at: datetime
    remind_at: datetime
    held_from: OrderStatus


class CompletionOut(BaseModel):
    by: Actor
    at: datetime
    contract: str
    starts_on: date
    main_ip: str


class CancellationOut(BaseModel):
    mode: CancellationMode
    by: Actor
    at: datetime
    reason: str | None
    invoice_id: UUID | None


class ScheduledOut(BaseModel):
    effective_at: datetime
    by: Actor
    at: datetime
    reason: str | None


class SuspensionOut(BaseModel):
    violation_cases: list[str]
    unpaid_invoices: list[UUID]


class OrderDetail(OrderRow):
    """The "Manage order" view: the order, its status-specific details and what may be done."""

    customer_email: str
    accepted_at: datetime | None
    hold: HoldOut | None
    completion: CompletionOut | None
    cancellation: CancellationOut | None
    scheduled_cancellation: ScheduledOut | None
    suspension: SuspensionOut | None
    allowed_actions: list[str] = Field(
        description="Actions the caller may take now, e.g. `renew`, `cancel`, `hold`."
    )


class OrderList(BaseModel):
    items: list[OrderRow]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    columns: list[ExtraColumn] = Field(description="The caller's saved extra columns.")


class RenewalLineOut(BaseModel):
    order_id: UUID
    service_name: str
    plan: str
    period_months: int
    price: Money


class RenewalOut(BaseModel):
    """The renewal requested; billing issues one invoice for all its lines."""

    items: list[RenewalLineOut]
    total: Money


class PlanOut(BaseModel):
    id: str
    product: str
    name: str
    monthly_price: Money
    periods: list[int]
    active: bool


class ProductOut(BaseModel):
    id: str
    name: str
    plans: list[PlanOut]


class Catalogue(BaseModel):
    products: list[ProductOut]


def money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def menu(actions: list[Action]) -> list[str]:
    return [action.name.lower() for action in actions]


def label(status: OrderStatus) -> str:
    return STATUS_LABELS[status]


def suspension_of(order: Order) -> SuspensionOut | None:
    if not (order.violation_cases or order.unpaid_invoices):
        return None
    return SuspensionOut(
        violation_cases=sorted(order.violation_cases),
        unpaid_invoices=sorted(order.unpaid_invoices),
    )
