"""Customer and staff actions over HTTP against the real PostgreSQL and Kafka: every change is
readable back through the API and leaves as its contract event, with actor and correlation."""

from __future__ import annotations

import uuid
from typing import Any

from tests.orders.support import STAFF, Orders, customer, customer_id, paid


async def test_placing_an_order_records_it_and_publishes_order_placed(orders: Orders) -> None:
    me = customer("Carla Customer")
    correlation = str(uuid.uuid4())
    response = await orders.http.post(
        "/orders",
        json={"plan": "vps-m", "period_months": 3, "campaign": "spring", "comment": "mail"},
        headers={**me, "X-Correlation-ID": correlation},
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "not_processed"
    assert order["price"] == {"amount": "24.00", "currency": "EUR"}
    assert order["campaign"] == "spring"
    assert len(order["service_name"]) == 8
    assert order["customer"] == {"id": customer_id(me), "name": "Carla Customer"}
    assert order["allowed_actions"] == ["change_comment", "cancel"]
    [placed] = await orders.wait_published(order["id"], "order.placed")
    assert placed["correlation_id"] == correlation
    assert placed["actor"] == {"kind": "customer", "id": customer_id(me), "name": "Carla Customer"}
    assert placed["data"]["price"] == {"amount": "24.00", "currency": "EUR"}


async def test_the_same_idempotency_key_places_once(orders: Orders) -> None:
    me = customer()
    headers = {**me, "Idempotency-Key": "place-1"}
    body = {"plan": "vps-s", "period_months": 1}
    first = await orders.http.post("/orders", json=body, headers=headers)
    again = await orders.http.post("/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    listed = (await orders.http.get("/orders", headers=me)).json()["items"]
    assert len(listed) == 1
    other = await orders.http.post("/orders", json={**body, "period_months": 3}, headers=headers)
    assert other.status_code == 422
    by_staff = await orders.http.post("/orders", json=body, headers=STAFF)
    assert by_staff.status_code == 403


async def test_bad_input_is_a_422_naming_the_field(orders: Orders) -> None:
    me = customer()

    async def refused(body: dict[str, Any]) -> list[str]:
        response = await orders.http.post("/orders", json=body, headers=me)
        assert response.status_code == 422, response.text
        return [error["field"] for error in response.json()["errors"]]

    assert await refused({"plan": "no-such-plan", "period_months": 1}) == ["body.plan"]
    assert await refused({"plan": "vps-s", "period_months": 2}) == ["body.period_months"]
    assert await refused({"plan": "vps-s", "period_months": 0}) == ["body.period_months"]
    order = await orders.place(me)
    await orders.publish(paid([order["id"]]))
    await orders.wait_status(order["id"], "in_progress")
    bad_ip = await orders.staff(
        order["id"], "complete", contract="C", starts_on="2025-03-10", main_ip="300.1.1.1"
    )
    assert bad_ip.status_code == 422
    assert [e["field"] for e in bad_ip.json()["errors"]] == ["body.main_ip"]


async def test_a_value_the_database_cannot_store_is_a_422_not_a_500(orders: Orders) -> None:
    me = customer()
    response = await orders.http.post(
        "/orders", json={"plan": "vps-s", "period_months": 1, "comment": "a\u0000b"}, headers=me
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await orders.http.get("/orders", headers=me)).json()["items"] == []
    hold = await orders.http.post(
        f"/orders/{uuid.uuid4()}/hold",
        json={"reason": "wait", "remind_at": "0001-01-01T00:01:00+00:04"},
        headers=STAFF,
    )
    assert hold.status_code == 422, hold.text


async def test_hold_and_release_return_the_order_where_it_was(orders: Orders) -> None:
    order = await orders.place(customer())
    held = await orders.staff(
        order["id"], "hold", reason="ID check", remind_at="2025-03-12T10:00:00Z"
    )
    assert held.status_code == 200, held.text
    hold = held.json()["hold"]
    assert held.json()["status"] == "on_hold"
    assert hold["reason"] == "ID check"
    assert hold["by"]["name"] == "Stella Staff"
    assert hold["remind_at"] == "2025-03-12T10:00:00Z"
    assert hold["held_from"] == "not_processed"
    again = await orders.staff(order["id"], "hold", reason="x", remind_at="2025-03-12T10:00:00Z")
    assert again.status_code == 409
    assert again.json()["detail"] == "cannot hold an order that is on hold"
    released = await orders.staff(order["id"], "release")
    assert released.json()["status"] == "not_processed"
    assert released.json()["hold"] is None
    [event] = await orders.wait_published(order["id"], "order.held")
    assert event["data"]["held_from"] == "not_processed"
    [back] = await orders.wait_published(order["id"], "order.released")
    assert back["data"]["back_to"] == "not_processed"
    assert back["actor"]["kind"] == "staff"


async def test_completion_records_who_when_contract_and_paid_until(orders: Orders) -> None:
    me = customer()
    done = await orders.active(me, period=3)
    assert done["status"] == "processed"
    assert done["completion"]["by"]["id"] == "staff-1"
    assert done["completion"]["contract"] == "C-1"
    assert done["main_ip"] == "203.0.113.7"
    assert done["paid_until"] == "2025-06-09"
    assert done["days_left"] == 91
    [completed] = await orders.wait_published(done["id"], "order.completed")
    assert completed["data"]["paid_until"] == "2025-06-09"
    mine = await orders.detail(done["id"], me)
    assert mine["allowed_actions"] == ["renew", "change_comment", "cancel", "schedule_cancellation"]


async def test_cancel_now_and_at_period_end_with_revoke(orders: Orders) -> None:
    me = customer()
    pending = await orders.place(me)
    now = await orders.http.post(
        f"/orders/{pending['id']}/cancel", json={"reason": "changed my mind"}, headers=me
    )
    assert now.json()["status"] == "cancelled"
    assert now.json()["cancellation"]["mode"] == "immediate"
    assert now.json()["cancellation"]["reason"] == "changed my mind"
    assert now.json()["cancellation"]["by"]["id"] == customer_id(me)

    active = await orders.active(me)
    url = f"/orders/{active['id']}"
    later = await orders.http.post(f"{url}/cancel", json={"at_period_end": True}, headers=me)
    assert later.json()["status"] == "processed"
    assert later.json()["cancellation_scheduled_for"] == "2025-04-10T00:00:00Z"
    assert "revoke_cancellation" in later.json()["allowed_actions"]
    twice = await orders.http.post(f"{url}/cancel", json={"at_period_end": True}, headers=me)
    assert twice.status_code == 409
    revoked = await orders.http.post(f"{url}/revoke-cancellation", headers=me)
    assert revoked.json()["scheduled_cancellation"] is None
    again = await orders.http.post(f"{url}/revoke-cancellation", headers=me)
    assert again.status_code == 409
    await orders.wait_published(active["id"], "order.cancellation_revoked")

    pending_later = await orders.place(me)
    refused = await orders.http.post(
        f"/orders/{pending_later['id']}/cancel", json={"at_period_end": True}, headers=me
    )
    assert refused.status_code == 409
    assert "not processed" in refused.json()["detail"]


async def test_staff_suspend_and_lift_a_violation_and_cancel_on_behalf(orders: Orders) -> None:
    order = await orders.active(customer())
    suspended = await orders.staff(order["id"], "suspend", reason="phishing page")
    assert suspended.json()["status"] == "suspended_violation"
    assert suspended.json()["suspension"]["violation_cases"] == ["staff"]
    lifted = await orders.staff(order["id"], "lift")
    assert lifted.json()["status"] == "processed"
    cancelled = await orders.staff(order["id"], "cancel", reason="customer called")
    assert cancelled.json()["cancellation"]["by"]["kind"] == "staff"
    refused = await orders.staff(order["id"], "suspend")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "cannot suspend for violation an order that is cancelled"


async def test_comment_changes_and_customers_never_set_status(orders: Orders) -> None:
    me = customer()
    order = await orders.place(me)
    changed = await orders.http.put(
        f"/orders/{order['id']}/comment", json={"comment": "backup box"}, headers=me
    )
    assert changed.json()["comment"] == "backup box"
    [event] = await orders.wait_published(order["id"], "order.comment_changed")
    assert event["data"]["comment"] == "backup box"
    for action in ("hold", "release", "complete", "suspend", "lift"):
        response = await orders.http.post(f"/orders/{order['id']}/{action}", json={}, headers=me)
        assert response.status_code == 403, (action, response.text)


async def test_another_customers_order_is_not_found(orders: Orders) -> None:
    owner, stranger = customer(), customer()
    order = await orders.place(owner)
    url = f"/orders/{order['id']}"
    assert (await orders.http.get(url, headers=stranger)).status_code == 404
    cancel = await orders.http.post(f"{url}/cancel", json={}, headers=stranger)
    assert cancel.status_code == 404
    comment = await orders.http.put(f"{url}/comment", json={"comment": "x"}, headers=stranger)
    assert comment.status_code == 404
    renew = await orders.http.post(f"{url}/renew", json={"period_months": 1}, headers=stranger)
    assert renew.status_code == 404
    assert (await orders.http.get(url, headers=STAFF)).status_code == 200
    assert (await orders.http.get(url, headers=owner)).json()["status"] == "not_processed"
    missing = await orders.http.get(f"/orders/{uuid.uuid4()}", headers=STAFF)
    assert missing.status_code == 404
