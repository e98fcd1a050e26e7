"""Cancelling orders of a batch renewal: their lines leave the invoice, the other orders stay
billed (and renewed once paid) for the right amount, and the year's numbers stay gapless."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from tests.billing.conftest import STAFF, Billing, cancelled, payment, placed, renewal

PRICES = ["10.00", "20.00", "30.00"]


async def detail(billing: Billing, invoice_id: UUID | str) -> dict[str, Any]:
    response = await billing.http.get(f"/invoices/{invoice_id}", headers=STAFF)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def batch(billing: Billing) -> tuple[list[UUID], UUID]:
    """Three placed orders renewed together through one invoice."""
    orders = [placed("alice") for _ in PRICES]
    for order in orders:
        await billing.send(order)
    ids = [order.order_id for order in orders]
    request = renewal("alice", dict(zip(ids, PRICES, strict=True)))
    await billing.send(request)
    issued = await billing.one("invoice.issued", renewal_id=request.data.renewal_id)
    return ids, issued.data.invoice_id


async def corrected_after(billing: Billing, voided: UUID) -> dict[str, Any]:
    """The invoice issued in place of ``voided``."""
    await billing.one("invoice.voided", invoice_id=voided)
    listed = (await billing.invoices(STAFF, status="open"))["items"]
    [found] = [invoice for invoice in listed if invoice["replaces"] == str(voided)]
    return await detail(billing, found["id"])


@pytest.mark.parametrize(
    ("cancel", "paid_before"),
    [([1], None), ([0], "5.00"), ([0, 2], None)],
    ids=["middle-unpaid", "first-partly-paid", "two-of-three"],
)
async def test_the_rest_of_a_batch_stays_payable_for_the_right_amount(
    billing: Billing, cancel: list[int], paid_before: str | None
) -> None:
    orders, invoice_id = await batch(billing)
    original = await detail(billing, invoice_id)
    if paid_before:
        await billing.send(payment(invoice_id, paid_before))
        await billing.one("payment.recorded", invoice_id=invoice_id)

    current = invoice_id
    for index in cancel:
        await billing.send(cancelled(orders[index]))
        corrected = await corrected_after(billing, current)
        assert (await detail(billing, current))["status"] == "void"
        current = corrected["id"]

    kept = [i for i in range(len(orders)) if i not in cancel]
    assert corrected["order_ids"] == [str(orders[i]) for i in kept]
    owed = sum(Decimal(PRICES[i]) for i in kept)
    assert Decimal(corrected["total"]["amount"]) == owed
    assert corrected["paid"]["amount"] == (paid_before or "0.00")
    assert (corrected["kind"], corrected["renewal_id"]) == ("renewal", original["renewal_id"])
    assert corrected["due_on"] == original["due_on"]

    await billing.send(payment(corrected["id"], str(owed - Decimal(paid_before or 0))))
    paid = await billing.one("invoice.paid", invoice_id=corrected["id"])
    assert [line.order_id for line in paid.data.lines] == [orders[i] for i in kept]
    assert str(paid.data.renewal_id) == original["renewal_id"]

    everything = (await billing.invoices(STAFF, limit=200))["items"]
    numbers = sorted(invoice["number"] for invoice in everything)
    assert numbers == [f"2026-{n:06d}" for n in range(1, len(numbers) + 1)], "gapless"
