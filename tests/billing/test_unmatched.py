"""Facts billing cannot apply when they come: an order's events before its ``order.placed``
are parked and applied after it (or dead-lettered after the configured time); money that no
invoice takes is listed for staff and counted until they resolve it. Nothing vanishes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from contracts import Envelope, Money, PaymentReceived
from services.billing.jobs import RENEWALS, UNMATCHED
from services.kit.parking import EXPIRE_PARKED
from tests.apps import bearer
from tests.billing.conftest import (
    STAFF,
    START,
    Billing,
    cancelled,
    completed,
    payment,
    placed,
)
from tests.helpers import eventually, read_topic

ALICE = bearer("customer", "alice")
PAID_UNTIL = START.date() + timedelta(days=30)


async def invoices_of(billing: Billing, order_id: UUID) -> list[dict[str, Any]]:
    return list((await billing.invoices(STAFF, order_id=str(order_id)))["items"])


async def renewed_in_time(billing: Billing, order_id: UUID) -> None:
    """Completed with its paid-until: a renewal invoice comes ahead of it."""
    billing.clock.set(datetime.combine(PAID_UNTIL, START.timetz()) - timedelta(days=14))
    await billing.run_job(RENEWALS)
    kinds = sorted(invoice["kind"] for invoice in await invoices_of(billing, order_id))
    assert kinds == ["initial", "renewal"]


async def first_invoice_void(billing: Billing, order_id: UUID) -> None:
    """Cancelled: its first invoice is not owed."""
    [invoice] = await invoices_of(billing, order_id)
    assert invoice["status"] == "void"


Early = Callable[[UUID], Envelope[Any]]


@pytest.mark.parametrize(
    ("early", "then"),
    [
        (lambda order_id: completed(order_id, PAID_UNTIL), renewed_in_time),
        (cancelled, first_invoice_void),
    ],
    ids=["completed", "cancelled"],
)
async def test_an_orders_event_before_its_placement_is_applied_after_it(
    billing: Billing, early: Early, then: Callable[[Billing, UUID], Any]
) -> None:
    order = placed("alice")
    await billing.send(early(order.order_id))
    await billing.send(order)
    await billing.one("invoice.issued", order.order_id)
    await eventually(lambda: _settled(billing, order.order_id))
    await then(billing, order.order_id)


async def _settled(billing: Billing, order_id: UUID) -> bool:
    """The placement and what was parked for it are applied in one transaction."""
    return bool(await invoices_of(billing, order_id))


async def test_an_orders_event_whose_order_never_comes_is_dead_lettered(billing: Billing) -> None:
    early = completed(uuid4(), PAID_UNTIL)
    await billing.send(early)
    marker = placed("alice")
    await billing.send(marker)
    await billing.one("invoice.issued", marker.order_id)

    billing.clock.advance(billing.service.settings.parked_max_age + timedelta(seconds=1))
    assert await billing.run_job(EXPIRE_PARKED) == 1
    dlq = await read_topic(billing.bootstrap, billing.prefix + "orders.events.dlq")
    [headers] = [h for _, value, h in dlq if str(early.event_id).encode() in value]
    assert headers["x-dlq-kind"] == b"parked_expired"
    assert headers["x-dlq-consumer"] == b"billing"


def in_currency(invoice_id: UUID, amount: str, currency: str) -> PaymentReceived:
    event = payment(invoice_id, amount)
    data = event.data.model_copy(
        update={"amount": Money(amount=Decimal(amount), currency=currency)}
    )
    return event.model_copy(update={"data": data})


async def test_money_no_invoice_takes_is_listed_for_staff_and_counted(billing: Billing) -> None:
    void_order = placed("alice", "30.00")
    paid_order = placed("alice", "5.00")
    for order in (void_order, paid_order):
        await billing.send(order)
    void_invoice = (await billing.one("invoice.issued", void_order.order_id)).data.invoice_id
    paid_invoice = (await billing.one("invoice.issued", paid_order.order_id)).data.invoice_id
    await billing.send(cancelled(void_order.order_id))
    await billing.one("invoice.voided", invoice_id=void_invoice)
    stray = uuid4()
    sent = {
        "unknown": payment(stray, "3.00"),
        "void": payment(void_invoice, "30.00"),
        "overpaid": payment(paid_invoice, "7.50"),
        "again": payment(paid_invoice, "5.00"),
        "currency": in_currency(paid_invoice, "5.00", "USD"),
    }
    for event in sent.values():
        await billing.send(event)
        await billing.one("payment.recorded", payment_id=event.data.payment_id)

    response = await billing.http.get("/payments/unmatched", headers=STAFF)
    assert response.status_code == 200, response.text
    listed = {item["payment_id"]: item for item in response.json()["items"]}
    assert response.json()["count"] == len(sent)
    found = {name: listed[event.data.payment_id] for name, event in sent.items()}
    assert found["unknown"]["invoice_id"] == str(stray)
    assert found["unknown"]["flag_reason"] == f"no invoice {stray} is known"
    assert found["overpaid"]["unapplied"] == {"amount": "2.50", "currency": "EUR"}
    assert found["again"]["flag_reason"].endswith("already paid: overpayment")
    assert found["currency"]["unapplied"] == {"amount": "5.00", "currency": "USD"}
    assert found["currency"]["flag_reason"] == "paid in USD, invoice is in EUR"
    assert "void" in found["void"]["flag_reason"]

    await billing.run_job(UNMATCHED)
    metrics = (await billing.http.get("/metrics")).text
    assert "billing_unmatched_payments 5.0" in metrics
    customer = await billing.http.get("/payments/unmatched", headers=ALICE)
    assert customer.status_code == 403

    # Staff refund the stray payment: it leaves the list, and keeps how, who and when.
    refunded = sent["unknown"].data.payment_id
    path = f"/payments/unmatched/{refunded}/resolve"
    body = {"resolution": "refunded to the card"}
    assert (await billing.http.post(path, json=body, headers=ALICE)).status_code == 403
    resolved = await billing.http.post(path, json=body, headers=STAFF)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolution"] == "refunded to the card"
    assert resolved.json()["resolved_by"] == "clerk-1"
    after = (await billing.http.get("/payments/unmatched", headers=STAFF)).json()
    assert after["count"] == len(sent) - 1
    assert refunded not in {item["payment_id"] for item in after["items"]}
    again = await billing.http.post(path, json=body, headers=STAFF)
    assert again.status_code == 404
    await billing.run_job(UNMATCHED)
    assert "billing_unmatched_payments 4.0" in (await billing.http.get("/metrics")).text
