"""Provisioning's and the abuse desk's facts that come before the order can take them: parked,
applied once the order is in progress, and dead-lettered when it never is. None vanishes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text

from services.kit.parking import EXPIRE_PARKED
from tests.helpers import eventually, read_topic
from tests.orders.support import STAFF, START, Orders, customer, delivered, paid, violation

IP = "2001:db8::42"


async def parked(orders: Orders, order_id: str) -> int:
    """How many events wait for the order (the test's only look behind the API: a parked
    event shows no change anywhere until it is applied)."""
    query = text("SELECT count(*) FROM parked_events WHERE order_id = :id")
    async with orders.service.runtime.database.unit_of_work() as work:
        return int(await work.session.scalar(query, {"id": uuid.UUID(order_id)}) or 0)


async def deliver_early(orders: Orders, order_id: str) -> None:
    await orders.publish(delivered(order_id, ip=IP))
    await eventually(lambda: parked(orders, order_id), timeout=20)


async def hold(orders: Orders, order_id: str) -> None:
    remind_at = (START + timedelta(days=2)).isoformat()
    response = await orders.staff(order_id, "hold", reason="checking", remind_at=remind_at)
    assert response.status_code == 200, response.text


async def pay(orders: Orders, order_id: str) -> None:
    await orders.publish(paid([order_id]))


async def before_payment(orders: Orders, order_id: str) -> None:
    await deliver_early(orders, order_id)
    await pay(orders, order_id)


async def while_held_before_payment(orders: Orders, order_id: str) -> None:
    await hold(orders, order_id)
    await deliver_early(orders, order_id)
    await pay(orders, order_id)
    await eventually(lambda: _accepted_while_held(orders, order_id), timeout=20)
    assert (await orders.detail(order_id))["status"] == "on_hold"
    await _release(orders, order_id)


async def while_held_in_progress(orders: Orders, order_id: str) -> None:
    await pay(orders, order_id)
    await orders.wait_status(order_id, "in_progress")
    await hold(orders, order_id)
    await deliver_early(orders, order_id)
    assert (await orders.detail(order_id))["status"] == "on_hold"
    await _release(orders, order_id)


async def _accepted_while_held(orders: Orders, order_id: str) -> bool:
    return any(e["type"] == "order.accepted" for e in await orders.published(order_id))


async def _release(orders: Orders, order_id: str) -> None:
    released = await orders.staff(order_id, "release")
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "processed", "the release applies the delivery at once"


Story = Callable[[Orders, str], Awaitable[None]]


@pytest.mark.parametrize(
    "story", [before_payment, while_held_before_payment, while_held_in_progress]
)
async def test_a_delivery_the_order_cannot_take_yet_is_applied_once_it_can(
    orders: Orders, story: Story
) -> None:
    order = await orders.place(customer())
    await story(orders, order["id"])
    done = await orders.wait_status(order["id"], "processed")
    assert done["main_ip"] == IP
    assert done["completion"]["contract"] == "PKG-9"
    [completed] = await orders.wait_published(order["id"], "order.completed")
    assert completed["data"]["main_ip"] == IP
    assert await parked(orders, order["id"]) == 0


async def test_facts_no_order_can_take_are_dead_lettered_after_the_configured_time(
    orders: Orders,
) -> None:
    unknown = str(uuid.uuid4())
    gone = await orders.place(customer())
    cancel = await orders.http.post(
        f"/orders/{gone['id']}/cancel", json={"at_period_end": False}, headers=STAFF
    )
    assert cancel.status_code == 200, cancel.text
    facts = [delivered(unknown), violation(unknown), delivered(gone["id"])]
    await orders.publish(*facts)
    for order_id in (unknown, gone["id"]):
        await eventually(lambda order_id=order_id: parked(orders, order_id), timeout=20)

    # Kept for the configured time (the default hour), not a moment less...
    orders.clock.advance(orders.service.settings.parked_max_age - timedelta(seconds=1))
    await orders.service.runtime.jobs.run_once(EXPIRE_PARKED)
    assert await parked(orders, unknown) == 2
    # ...then given up on: on their topic's DLQ, with why, and counted.
    orders.clock.advance(timedelta(seconds=2))
    await orders.service.runtime.jobs.run_once(EXPIRE_PARKED)
    assert await parked(orders, unknown) == await parked(orders, gone["id"]) == 0
    for fact in facts:
        topic = orders.prefix + ("abuse" if fact.type.startswith("violation") else "provisioning")
        dead = await dead_lettered(orders, topic + ".events.dlq", str(fact.event_id))
        assert dead["x-dlq-kind"] == b"parked_expired"
        assert dead["x-dlq-consumer"] == b"orders"
    metrics = (await orders.http.get("/metrics")).text
    assert 'parked_events_expired_total{consumer="orders",topic="provisioning.events"}' in metrics


async def dead_lettered(orders: Orders, topic: str, event_id: str) -> dict[str, bytes]:
    for _, value, headers in await read_topic(orders.bootstrap, topic):
        if event_id.encode() in value:
            return headers
    raise AssertionError(f"{event_id} is not on {topic}")
