"""Scheduled work with a moved clock: hold reminders and end-of-period cancellations happen
once at their time, also when two passes run at the same moment (two replicas)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.orders.jobs import HOLD_REMINDERS, PERIOD_END_CANCELLATIONS
from tests.orders.support import Orders, customer


async def _run(orders: Orders, job: str) -> int:
    return await orders.service.runtime.jobs.run_once(job) or 0


async def test_a_hold_reminder_is_due_once_at_its_time(orders: Orders) -> None:
    # The service is the session's: reminders other tests left due are told first.
    while await _run(orders, HOLD_REMINDERS):
        pass
    order = await orders.place(customer())
    remind_at = orders.clock.now() + timedelta(hours=2)
    await orders.staff(
        order["id"], "hold", reason="waiting for the DC", remind_at=remind_at.isoformat()
    )
    assert await _run(orders, HOLD_REMINDERS) == 0
    orders.clock.advance(timedelta(hours=3))
    passes = await asyncio.gather(*(_run(orders, HOLD_REMINDERS) for _ in range(2)))
    assert sorted(passes) == [0, 1]
    assert await _run(orders, HOLD_REMINDERS) == 0
    [due] = await orders.wait_published(order["id"], "order.hold_reminder_due")
    assert due["data"] == {
        "remind_at": remind_at.isoformat().replace("+00:00", "Z"),
        "reason": "waiting for the DC",
        "held_by": {"kind": "staff", "id": "staff-1", "name": "Stella Staff"},
    }
    assert due["actor"]["kind"] == "system"
    assert (await orders.detail(order["id"]))["status"] == "on_hold"


async def test_end_of_period_cancellation_happens_at_paid_until_and_not_when_revoked(
    orders: Orders,
) -> None:
    me = customer()
    leaving, staying = await orders.active(me), await orders.active(me)
    for order in (leaving, staying):
        response = await orders.http.post(
            f"/orders/{order['id']}/cancel",
            json={"at_period_end": True, "reason": "moving"},
            headers=me,
        )
        assert response.status_code == 200, response.text
    await orders.http.post(f"/orders/{staying['id']}/revoke-cancellation", headers=me)
    effective = datetime(2025, 4, 10, tzinfo=UTC)  # the day after paid-until 2025-04-09
    orders.clock.set(effective - timedelta(seconds=1))
    assert await _run(orders, PERIOD_END_CANCELLATIONS) == 0
    orders.clock.set(effective)
    passes = await asyncio.gather(*(_run(orders, PERIOD_END_CANCELLATIONS) for _ in range(2)))
    assert sorted(passes) == [0, 1]
    assert await _run(orders, PERIOD_END_CANCELLATIONS) == 0
    ended = await orders.detail(leaving["id"])
    assert ended["status"] == "cancelled"
    assert ended["cancellation"]["mode"] == "end_of_period"
    assert ended["cancellation"]["reason"] == "moving"
    assert ended["cancellation"]["at"] == "2025-04-10T00:00:00Z"
    assert (await orders.detail(staying["id"]))["status"] == "processed"
    [cancelled] = await orders.wait_published(leaving["id"], "order.cancelled")
    assert cancelled["data"]["mode"] == "end_of_period"
