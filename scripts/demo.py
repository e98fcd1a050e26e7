"""``make demo``: plays a compressed version of the main story against the running stack
(``make up``), through HTTP and the other services' topics, then says where to look.

A new customer orders two servers; the payment gateway pays one; provisioning delivers it;
the abuse desk suspends and lifts it; the customer cancels the other; the journal verifies."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx

from contracts import (
    Actor,
    ActorKind,
    Envelope,
    Money,
    PaymentReceived,
    ServiceDelivered,
    ViolationConfirmed,
    ViolationLifted,
)
from contracts.inbound import (
    PaymentReceivedData,
    ServiceDeliveredData,
    ViolationConfirmedData,
    ViolationLiftedData,
)
from services.kit.auth import mint_token
from services.kit.kafka import make_broker
from services.kit.settings import LOCAL_JWT_SECRET

URLS = {
    name: f"http://127.0.0.1:{port}"
    for name, port in (("orders", 8001), ("billing", 8002), ("notifier", 8003), ("audit", 8004))
}
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092")
DESK = Actor(kind=ActorKind.SERVICE, id="demo", name="Demo of the provider's other services")


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


async def until(check: Callable[[], Awaitable[Any]], what: str, patience: float = 60) -> Any:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.5)
    sys.exit(f"gave up waiting for {what}: is the stack up (make up)?")


def event(model: type[Envelope[Any]], order_id: UUID | None, data: Any) -> Envelope[Any]:
    return model(
        occurred_at=datetime.now(UTC),
        producer="demo",
        correlation_id=uuid4(),
        actor=DESK,
        order_id=order_id,
        data=data,
    )


async def main() -> None:
    customer = f"demo-{uuid4().hex[:6]}"
    token = mint_token(
        LOCAL_JWT_SECRET,
        sub=customer,
        role="customer",
        name="Demo Customer",
        email=f"{customer}@example.com",
        locale="en",
    )
    me = {"Authorization": f"Bearer {token}"}
    broker = make_broker(BOOTSTRAP, client_id="demo")
    await broker.connect()

    async def send(topic: str, message: Envelope[Any]) -> None:
        key = str(message.order_id).encode() if message.order_id else None
        await broker.publish(message.model_dump_json().encode(), topic=topic, key=key)

    async with httpx.AsyncClient(timeout=10, headers=me) as http:

        async def get(service: str, path: str) -> Any:
            return (await http.get(URLS[service] + path)).json()

        async def order_in(order_id: str, status: str) -> Any:
            order = await get("orders", f"/orders/{order_id}")
            return order if order["status"] == status else None

        step(f"customer {customer} orders a VPS S and a VPS M")
        orders = [
            (
                await http.post(URLS["orders"] + "/orders", json={"plan": plan, "period_months": 1})
            ).json()
            for plan in ("vps-s", "vps-m")
        ]
        first, second = orders[0]["id"], orders[1]["id"]

        async def invoice_of_first() -> Any:
            return (await get("billing", f"/invoices?order_id={first}"))["items"]

        invoice = (await until(invoice_of_first, "the first invoice"))[0]
        step(
            f"billing issued invoice {invoice['number']} over {invoice['total']['amount']} "
            f"{invoice['total']['currency']}; the gateway pays it"
        )
        await send(
            "payments.events",
            event(
                PaymentReceived,
                None,
                PaymentReceivedData(
                    payment_id=f"demo-{uuid4().hex[:6]}",
                    invoice_id=UUID(invoice["id"]),
                    amount=Money(**invoice["total"]),
                    received_at=datetime.now(UTC),
                ),
            ),
        )
        await until(lambda: order_in(first, "in_progress"), "acceptance")
        step("the order is in progress: acceptance mail and support ticket on their way")
        await send(
            "provisioning.events",
            event(
                ServiceDelivered,
                UUID(first),
                ServiceDeliveredData(
                    main_ip="203.0.113.10", contract="PKG-DEMO", starts_on=date.today()
                ),
            ),
        )
        done = await until(lambda: order_in(first, "processed"), "delivery")
        step(
            f"delivered on {done['main_ip']}: processed, paid until {done['paid_until']}, "
            f"{done['days_left']} days left"
        )
        await send(
            "abuse.events",
            event(
                ViolationConfirmed,
                UUID(first),
                ViolationConfirmedData(case_id="demo-1", reason="spam from the server"),
            ),
        )
        await until(lambda: order_in(first, "suspended_violation"), "the suspension")
        step("the abuse desk confirmed a violation: suspended, critical banner and mail")
        await send(
            "abuse.events",
            event(
                ViolationLifted, UUID(first), ViolationLiftedData(case_id="demo-1", note="resolved")
            ),
        )
        await until(lambda: order_in(first, "processed"), "the lift")
        step("the violation is lifted: processed again, the banner goes")
        await http.post(
            URLS["orders"] + f"/orders/{second}/cancel", json={"reason": "ordered by mistake"}
        )
        await until(lambda: order_in(second, "cancelled"), "the cancellation")
        step("the second order is cancelled at once; its open invoice is voided")
        verified = await until(
            lambda: get("audit", f"/orders/{first}/journal/verify"), "the journal"
        )
        step(
            f"journal of the first order: {verified['status']}, {verified['entries']} entries, "
            f"head {str(verified['head_hash'])[:16]}…"
        )
    await broker.stop()
    print(f"""
Where to look (token of {customer}: export T={token})
  order list:  curl -s {URLS["orders"]}/orders -H "Authorization: Bearer $T"
  journal:     curl -s {URLS["audit"]}/orders/{first}/journal -H "Authorization: Bearer $T"
  banners:     curl -s '{URLS["notifier"]}/banners?placement=dashboard' \\
                    -H "Authorization: Bearer $T"
  mail:        http://127.0.0.1:8025/ (the files: .local/mail/*.eml)
  API docs:    {URLS["orders"]}/docs, {URLS["billing"]}/docs,
               {URLS["notifier"]}/docs, {URLS["audit"]}/docs""")


if __name__ == "__main__":
    asyncio.run(main())
