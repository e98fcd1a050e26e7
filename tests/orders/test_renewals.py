"""Renewal, single and batch: one ``order.renewal_requested`` per request, and each order's
paid-until moved on by its own period when billing says the renewal invoice is paid."""

from __future__ import annotations

import uuid
from uuid import UUID

from tests.orders.support import Orders, customer, paid


async def test_batch_renewal_is_one_request_and_one_paid_invoice_renews_each(
    orders: Orders,
) -> None:
    me = customer()
    first, second = await orders.active(me), await orders.active(me, plan="vps-m")
    response = await orders.http.post(
        "/orders/renewals",
        json={
            "items": [
                {"order_id": first["id"], "period_months": 12},
                {"order_id": second["id"], "period_months": 3},
            ]
        },
        headers=me,
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == {"amount": "72.00", "currency": "EUR"}
    [requested] = await orders.wait_published(first["id"], "order.renewal_requested")
    items = requested["data"]["items"]
    assert [(i["order_id"], i["period_months"]) for i in items] == [
        (first["id"], 12),
        (second["id"], 3),
    ]
    assert not [
        e for e in await orders.published(second["id"]) if e["type"].startswith("order.renewal")
    ]

    renewal = UUID(requested["data"]["renewal_id"])
    invoice = paid([first["id"]], kind="renewal", months=12, renewal_id=renewal)
    other_line = paid([second["id"]], kind="renewal", months=3, renewal_id=renewal)
    # One invoice with both lines, as billing would send it.
    both = invoice.model_copy(
        update={
            "data": invoice.data.model_copy(
                update={
                    "lines": [*invoice.data.lines, *other_line.data.lines],
                    "total": _sum(invoice, other_line),
                }
            )
        }
    )
    await orders.publish(both, both)
    renewed = await orders.wait_published(second["id"], "order.renewed")
    assert renewed[0]["data"]["paid_until"] == "2025-07-09"
    assert renewed[0]["data"]["renewal_id"] == str(renewal)
    [first_renewed] = await orders.wait_published(first["id"], "order.renewed")
    assert first_renewed["data"]["paid_until"] == "2026-04-09"
    assert (await orders.detail(first["id"], me))["paid_until"] == "2026-04-09"


def _sum(*events):  # type: ignore[no-untyped-def]
    lines = [line for event in events for line in event.data.lines]
    total = sum(line.amount.amount for line in lines)
    return events[0].data.total.model_copy(update={"amount": total})


async def test_single_renewal_checks_the_plans_periods(orders: Orders) -> None:
    me = customer()
    order = await orders.active(me)
    bad = await orders.http.post(
        f"/orders/{order['id']}/renew", json={"period_months": 2}, headers=me
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.period_months"
    ok = await orders.http.post(
        f"/orders/{order['id']}/renew", json={"period_months": 6}, headers=me
    )
    assert ok.json()["total"] == {"amount": "24.00", "currency": "EUR"}
    await orders.wait_published(order["id"], "order.renewal_requested")


async def test_batch_refusals(orders: Orders) -> None:
    me = customer()
    euro, dollar = await orders.active(me), await orders.active(me, plan="vps-us")
    pending = await orders.place(me)
    mixed = await orders.http.post(
        "/orders/renewals",
        json={
            "items": [
                {"order_id": euro["id"], "period_months": 1},
                {"order_id": dollar["id"], "period_months": 1},
            ]
        },
        headers=me,
    )
    assert mixed.status_code == 422
    assert mixed.json()["errors"][0]["field"] == "body.items"
    not_active = await orders.http.post(
        "/orders/renewals",
        json={
            "items": [
                {"order_id": euro["id"], "period_months": 1},
                {"order_id": pending["id"], "period_months": 1},
            ]
        },
        headers=me,
    )
    assert not_active.status_code == 409
    assert not_active.json()["detail"] == "cannot renew an order that is not processed"
    someone_elses = await orders.active(customer())
    foreign = await orders.http.post(
        "/orders/renewals",
        json={"items": [{"order_id": someone_elses["id"], "period_months": 1}]},
        headers=me,
    )
    assert foreign.status_code == 404
    unknown = await orders.http.post(
        "/orders/renewals",
        json={"items": [{"order_id": str(uuid.uuid4()), "period_months": 1}]},
        headers=me,
    )
    assert unknown.status_code == 404
    requested = [e for e in await orders.published() if e["type"] == "order.renewal_requested"]
    assert not [e for e in requested if e["order_id"] in (euro["id"], someone_elses["id"])]
