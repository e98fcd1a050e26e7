"""Invoices from orders events, and what customers and staff see of them over HTTP."""

from __future__ import annotations

from uuid import uuid4

from tests.apps import bearer
from tests.billing.conftest import STAFF, Billing, cancelled, placed, renewal

ALICE = bearer("customer", "alice")
BOB = bearer("customer", "bob")


async def test_first_invoice_is_issued_once_however_often_the_order_is_placed(
    billing: Billing,
) -> None:
    order = placed("alice", "12.50")
    await billing.send(order)
    await billing.send(order)  # the same message delivered again
    await billing.send(placed("alice", "12.50", order_id=order.order_id))  # a new event id
    # Same key, so processed after the three above: once voided, all of them were handled.
    await billing.send(cancelled(order.order_id))
    await billing.one("invoice.voided", order.order_id)

    issued = await billing.published("invoice.issued", order.order_id)
    assert len(issued) == 1
    data = issued[0].data
    assert data.kind == "initial"
    assert data.total.amount == data.lines[0].amount.amount == 12.5
    assert data.number == "2026-000001"
    page = await billing.invoices(ALICE, order_id=order.order_id)
    assert page["count"] == 1
    assert page["items"][0]["status"] == "void"


async def test_a_batch_renewal_gives_one_invoice_with_a_line_per_order(billing: Billing) -> None:
    orders = [uuid4(), uuid4(), uuid4()]
    request = renewal("alice", dict(zip(orders, ["10.00", "20.50", "5.25"], strict=True)))
    await billing.send(request)
    await billing.send(request)

    issued = await billing.one("invoice.issued", renewal_id=request.data.renewal_id)
    assert issued.order_id == orders[0]
    assert issued.data.kind == "renewal"
    assert [line.order_id for line in issued.data.lines] == orders
    assert str(issued.data.total.amount) == "35.75"

    detail = await billing.http.get(f"/invoices/{issued.data.invoice_id}", headers=ALICE)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert [line["amount"]["amount"] for line in body["lines"]] == ["10.00", "20.50", "5.25"]
    assert body["total"] == {"amount": "35.75", "currency": "EUR"}
    assert body["status"] == "open"
    assert body["payments"] == []

    counts = await billing.http.get(
        "/invoices/counts", params={"order_id": [*map(str, orders), str(uuid4())]}, headers=ALICE
    )
    assert [entry["invoices"] for entry in counts.json()["counts"]] == [1, 1, 1, 0]
    assert len(await billing.published("invoice.issued")) == 1


async def test_customers_see_their_own_invoices_and_staff_filter_all(billing: Billing) -> None:
    mine = [placed("alice", f"{n}.00") for n in (1, 2, 3)]
    theirs = placed("bob", "9.00")
    for event in [*mine, theirs]:
        await billing.send(event)
    for event in [*mine, theirs]:
        await billing.one("invoice.issued", event.order_id)
    await _all_issued(billing, 4)

    first = await billing.invoices(ALICE, limit=2, customer_id="bob")
    assert first["count"] == 3
    assert len(first["items"]) == 2
    second = await billing.invoices(ALICE, limit=2, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    numbers = [item["number"] for item in first["items"] + second["items"]]
    assert numbers == sorted(numbers, reverse=True)
    assert len(set(numbers)) == 3
    assert {item["customer_id"] for item in first["items"] + second["items"]} == {"alice"}

    bobs = (await billing.invoices(BOB))["items"][0]
    hidden = await billing.http.get(f"/invoices/{bobs['id']}", headers=ALICE)
    assert hidden.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"

    assert (await billing.invoices(STAFF))["count"] == 4
    assert (await billing.invoices(STAFF, customer_id="bob"))["items"][0]["id"] == bobs["id"]
    assert (await billing.invoices(STAFF, status="open", issued_from="2026-03-02"))["count"] == 4
    assert (await billing.invoices(STAFF, issued_to="2026-03-01"))["count"] == 0
    by_order = await billing.invoices(STAFF, order_id=mine[1].order_id)
    assert [item["total"]["amount"] for item in by_order["items"]] == ["2.00"]

    wrong = await billing.http.get("/invoices", params={"status": "late"}, headers=STAFF)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "query.status"


async def test_staff_void_an_open_invoice_and_customers_may_not(billing: Billing) -> None:
    order = placed("alice")
    await billing.send(order)
    invoice = await billing.one("invoice.issued", order.order_id)
    url = f"/invoices/{invoice.data.invoice_id}/void"

    refused = await billing.http.post(url, json={"reason": "mine"}, headers=ALICE)
    assert refused.status_code == 403
    missing = await billing.http.post(url, json={}, headers=STAFF)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "body.reason"

    voided = await billing.http.post(url, json={"reason": "duplicate order"}, headers=STAFF)
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "void"
    again = await billing.http.post(url, json={"reason": "again"}, headers=STAFF)
    assert again.status_code == 409
    assert "'void'" in again.json()["detail"]
    event = await billing.one("invoice.voided", invoice_id=invoice.data.invoice_id)
    assert event.data.reason == "duplicate order"
    assert event.actor.id == "clerk-1"


async def _all_issued(billing: Billing, count: int) -> None:
    from tests.helpers import eventually

    async def enough() -> bool:
        return len(await billing.published("invoice.issued")) >= count

    await eventually(enough)
