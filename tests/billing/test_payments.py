"""Payments from the gateway and from staff: in full, in parts, duplicated, for a void or
unknown invoice; each booked once, what cannot be applied flagged."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from tests.apps import bearer
from tests.billing.conftest import STAFF, Billing, cancelled, payment, placed

ALICE = bearer("customer", "alice")


async def _invoice_of_new_order(billing: Billing, price: str = "30.00") -> tuple[Any, UUID]:
    order = placed("alice", price)
    await billing.send(order)
    issued = await billing.one("invoice.issued", order.order_id)
    return order, issued.data.invoice_id


async def _detail(billing: Billing, invoice_id: UUID) -> dict[str, Any]:
    response = await billing.http.get(f"/invoices/{invoice_id}", headers=ALICE)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_payment_in_full_pays_the_invoice(billing: Billing) -> None:
    order, invoice_id = await _invoice_of_new_order(billing)
    received = payment(invoice_id, "30.00")
    await billing.send(received)

    paid = await billing.one("invoice.paid", invoice_id=invoice_id)
    assert paid.order_id == order.order_id
    assert paid.data.kind == "initial"
    assert paid.data.payment_id == received.data.payment_id
    assert [line.period_months for line in paid.data.lines] == [1]
    assert paid.data.was_overdue is False
    recorded = await billing.one("payment.recorded", invoice_id=invoice_id)
    assert recorded.data.flagged is False
    detail = await _detail(billing, invoice_id)
    assert detail["status"] == "paid"
    assert detail["paid"]["amount"] == "30.00"


async def test_payments_in_parts_pay_once_covered_and_a_duplicate_changes_nothing(
    billing: Billing,
) -> None:
    _, invoice_id = await _invoice_of_new_order(billing)
    first = payment(invoice_id, "10.00")
    await billing.send(first)
    await billing.send(first)  # redelivered
    await billing.send(payment(invoice_id, "10.00", payment_id=first.data.payment_id))
    await billing.one("payment.recorded", payment_id=first.data.payment_id)
    second = payment(invoice_id, "20.00")
    await billing.send(second)
    await billing.one("invoice.paid", invoice_id=invoice_id)

    detail = await _detail(billing, invoice_id)
    assert detail["status"] == "paid"
    assert [p["applied"]["amount"] for p in detail["payments"]] == ["10.00", "20.00"]
    assert len(await billing.published("payment.recorded", invoice_id=invoice_id)) == 2
    assert len(await billing.published("invoice.paid", invoice_id=invoice_id)) == 1


async def test_overpayment_and_unknown_invoice_are_recorded_and_flagged(billing: Billing) -> None:
    _, invoice_id = await _invoice_of_new_order(billing, "5.00")
    await billing.send(payment(invoice_id, "7.50"))
    recorded = await billing.one("payment.recorded", invoice_id=invoice_id)
    assert recorded.data.flagged is True
    assert recorded.data.flag_reason == "overpayment of 2.50 EUR"
    assert (await _detail(billing, invoice_id))["status"] == "paid"

    stray = payment(uuid4(), "3.00")
    await billing.send(stray)
    lost = await billing.one("payment.recorded", payment_id=stray.data.payment_id)
    assert lost.data.invoice_id is None
    assert lost.data.flagged is True


async def test_payment_for_a_void_invoice_is_flagged_and_refused_by_hand(billing: Billing) -> None:
    order, invoice_id = await _invoice_of_new_order(billing)
    await billing.send(cancelled(order.order_id))
    await billing.one("invoice.voided", invoice_id=invoice_id)
    await billing.send(payment(invoice_id, "30.00"))
    recorded = await billing.one("payment.recorded", invoice_id=invoice_id)
    assert recorded.data.flagged is True
    assert "void" in recorded.data.flag_reason

    by_hand = await billing.http.post(
        f"/invoices/{invoice_id}/payments",
        json={"amount": {"amount": "30.00", "currency": "EUR"}},
        headers=STAFF,
    )
    assert by_hand.status_code == 409
    assert by_hand.json()["title"] == "Invoice is void"
    detail = await _detail(billing, invoice_id)
    assert detail["status"] == "void"
    assert [p["flagged"] for p in detail["payments"]] == [True]


async def test_staff_record_a_payment_once_per_idempotency_key(billing: Billing) -> None:
    _, invoice_id = await _invoice_of_new_order(billing)
    url = f"/invoices/{invoice_id}/payments"
    body = {"amount": {"amount": "30.00", "currency": "EUR"}, "note": "bank transfer"}
    key = {"Idempotency-Key": f"k-{uuid4()}"}

    assert (await billing.http.post(url, json=body, headers=ALICE)).status_code == 403
    zero = await billing.http.post(
        url, json={"amount": {"amount": "0", "currency": "EUR"}}, headers=STAFF
    )
    assert zero.status_code == 422
    assert zero.json()["errors"][0]["field"] == "body.amount"
    first = await billing.http.post(url, json=body, headers={**STAFF, **key})
    again = await billing.http.post(url, json=body, headers={**STAFF, **key})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["source"] == "staff"

    paid = await billing.one("invoice.paid", invoice_id=invoice_id)
    assert paid.data.payment_id == first.json()["payment_id"]
    assert len((await _detail(billing, invoice_id))["payments"]) == 1
    unknown = await billing.http.post(f"/invoices/{uuid4()}/payments", json=body, headers=STAFF)
    assert unknown.status_code == 404
