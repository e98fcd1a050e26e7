"""What other services' events do to orders, through the real Kafka: billing, provisioning
and the abuse desk; duplicates, out-of-order and unknown orders change nothing twice."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaProducer

from tests.helpers import eventually, read_topic
from tests.orders.support import (
    Orders,
    customer,
    delivered,
    issued,
    lifted,
    overdue,
    paid,
    violation,
    voided,
)


async def test_initial_payment_accepts_and_delivery_completes(orders: Orders) -> None:
    me = customer()
    order = await orders.place(me)
    payment = paid([order["id"]])
    await orders.publish(issued([order["id"]], payment.data.invoice_id), payment)
    accepted = await orders.wait_status(order["id"], "in_progress")
    assert accepted["invoice_count"] == 1
    [event] = await orders.wait_published(order["id"], "order.accepted")
    assert event["data"]["invoice_id"] == str(payment.data.invoice_id)
    assert event["causation_id"] == str(payment.event_id)
    assert event["correlation_id"] == str(payment.correlation_id)

    await orders.publish(delivered(order["id"], ip="2001:db8::7"))
    done = await orders.wait_status(order["id"], "processed")
    assert done["main_ip"] == "2001:db8::7"
    assert done["completion"]["contract"] == "PKG-9"
    assert done["paid_until"] == "2025-04-11"
    assert done["completion"]["by"] == {
        "kind": "system",
        "id": "provisioning",
        "name": "provisioning",
    }
    # An action answers with the order as it is now, its invoices counted too.
    changed = await orders.http.put(
        f"/orders/{order['id']}/comment", json={"comment": "web box"}, headers=me
    )
    assert (changed.json()["comment"], changed.json()["invoice_count"]) == ("web box", 1)


async def test_duplicates_and_a_late_second_payment_change_nothing(orders: Orders) -> None:
    order = await orders.place(customer())
    payment = paid([order["id"]])
    same_invoice_again = paid([order["id"]], invoice_id=payment.data.invoice_id)
    await orders.publish(
        payment, payment, same_invoice_again, issued([order["id"]], payment.data.invoice_id)
    )
    await orders.wait_status(order["id"], "in_progress")
    # A marker on the same partition after them: once it is applied, so are they.
    await orders.publish(issued([order["id"]]))
    await orders.wait_invoice_count(order["id"], 2)
    accepted = [e for e in await orders.published(order["id"]) if e["type"] == "order.accepted"]
    assert len(accepted) == 1
    assert (await orders.detail(order["id"]))["status"] == "in_progress"


async def test_overdue_suspends_payment_reactivates_termination_cancels(orders: Orders) -> None:
    order = await orders.active(customer())
    invoice = uuid.uuid4()
    await orders.publish(overdue([order["id"]], "overdue", invoice))
    await orders.publish(overdue([order["id"]], "suspend", invoice))
    suspended = await orders.wait_status(order["id"], "suspended_non_payment")
    assert suspended["suspension"]["unpaid_invoices"] == [str(invoice)]
    await orders.publish(paid([order["id"]], kind="renewal", invoice_id=invoice, was_overdue=True))
    back = await orders.wait_status(order["id"], "processed")
    assert back["paid_until"] == "2025-05-09", "the paid renewal also moved paid-until on"
    [reactivated] = await orders.wait_published(order["id"], "order.reactivated")
    assert reactivated["data"] == {
        "cause": "non_payment",
        "reason": None,
        "invoice_id": str(invoice),
        "case_id": None,
        "status": "processed",
    }
    # Stale dunning for the paid invoice arrives late: ignored.
    await orders.publish(overdue([order["id"]], "terminate", invoice))
    second = uuid.uuid4()
    await orders.publish(overdue([order["id"]], "suspend", second))
    await orders.publish(overdue([order["id"]], "terminate", second))
    ended = await orders.wait_status(order["id"], "cancelled")
    assert ended["cancellation"]["mode"] == "non_payment_termination"
    assert ended["cancellation"]["invoice_id"] == str(second)
    assert ended["invoice_count"] == 3, "the first invoice and the two overdue ones"


async def test_a_payment_does_not_lift_a_violation(orders: Orders) -> None:
    order = await orders.active(customer())
    invoice = uuid.uuid4()
    await orders.publish(violation(order["id"]))  # abuse.events: its own topic, so wait for it
    await orders.wait_status(order["id"], "suspended_violation")
    await orders.publish(overdue([order["id"]], "suspend", invoice))
    await orders.publish(paid([order["id"]], kind="renewal", invoice_id=invoice))
    await eventually(lambda: _renewed(orders, order["id"]))
    still = await orders.detail(order["id"])
    assert still["status"] == "suspended_violation"
    assert still["suspension"] == {"violation_cases": ["case-1"], "unpaid_invoices": []}
    await orders.publish(lifted(order["id"]))
    await orders.wait_status(order["id"], "processed")


async def _renewed(orders: Orders, order_id: str) -> bool:
    return any(e["type"] == "order.renewed" for e in await orders.published(order_id))


async def test_a_voided_invoice_no_longer_suspends(orders: Orders) -> None:
    order = await orders.active(customer())
    invoice = uuid.uuid4()
    await orders.publish(overdue([order["id"]], "suspend", invoice))
    await orders.wait_status(order["id"], "suspended_non_payment")
    await orders.publish(voided([order["id"]], invoice))
    await orders.wait_status(order["id"], "processed")
    await orders.publish(overdue([order["id"]], "suspend", invoice), issued([order["id"]]))
    detail = await orders.wait_invoice_count(order["id"], 3)
    assert detail["status"] == "processed", "dunning of a voided invoice is ignored"


async def test_events_for_unknown_orders_are_skipped_and_bad_ones_dead_lettered(
    orders: Orders,
) -> None:
    unknown = str(uuid.uuid4())
    await orders.publish(paid([unknown]), delivered(unknown))
    producer = AIOKafkaProducer(bootstrap_servers=orders.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(orders.prefix + "billing.events", b'{"type": "invoice.paid"}')
    finally:
        await producer.stop()

    async def dead_lettered() -> list[bytes]:
        found = await read_topic(orders.bootstrap, orders.prefix + "billing.events.dlq")
        return [value for _, value, _ in found]

    assert await eventually(dead_lettered) == [b'{"type": "invoice.paid"}']
    order = await orders.place(customer())
    await orders.publish(paid([order["id"]]))
    await orders.wait_status(order["id"], "in_progress")  # the consumer went on
    await asyncio.sleep(0)
    assert not [e for e in await orders.published(unknown)]
