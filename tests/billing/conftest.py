"""Billing running on the real Kafka and PostgreSQL, and the events a test sends it.

``Billing`` wraps one running service: it publishes orders and payments events to the test's
topic prefix, reads what billing published on ``billing.events``, and calls its HTTP API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from faststream.kafka import KafkaBroker

from contracts import (
    BILLING,
    ORDERS,
    PAYMENTS,
    SYSTEM_ACTOR,
    Customer,
    Envelope,
    Money,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderRenewalRequested,
    PaymentReceived,
)
from contracts.inbound import PaymentReceivedData
from contracts.orders import (
    CancellationMode,
    OrderCancelledData,
    OrderCompletedData,
    OrderPlacedData,
)
from contracts.renewals import OrderRenewalRequestedData, RenewalItem
from services.kit.clock import FrozenClock
from services.kit.kafka import make_broker
from tests.apps import RunningService, bearer, running_service
from tests.helpers import eventually, outbox_drained, read_topic
from tests.stack import Servers

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAFF = bearer("staff", "clerk-1", name="Clerk One")


def _envelope(**fields: Any) -> dict[str, Any]:
    return {
        "occurred_at": datetime.now(UTC),
        "producer": "test",
        "correlation_id": uuid4(),
        "actor": SYSTEM_ACTOR,
        **fields,
    }


def customer(customer_id: str) -> Customer:
    return Customer(id=customer_id, name=customer_id.title(), email=f"{customer_id}@example.com")


def placed(customer_id: str, price: str = "10.00", *, order_id: UUID | None = None) -> OrderPlaced:
    data = OrderPlacedData(
        service_name=f"s{uuid4().hex[:7]}",
        product="VPS",
        plan="M",
        price=Money(amount=Decimal(price), currency="EUR"),
        period_months=1,
        customer=customer(customer_id),
    )
    return OrderPlaced(**_envelope(order_id=order_id or uuid4()), data=data)


def completed(order_id: UUID, paid_until: date) -> OrderCompleted:
    data = OrderCompletedData(
        contract="C-1", starts_on=START.date(), main_ip="192.0.2.10", paid_until=paid_until
    )
    return OrderCompleted(**_envelope(order_id=order_id), data=data)


def renewal(customer_id: str, prices: dict[UUID, str]) -> OrderRenewalRequested:
    items = [
        RenewalItem(
            order_id=order_id,
            service_name=f"s{index}",
            plan="M",
            period_months=12,
            price=Money(amount=Decimal(price), currency="EUR"),
        )
        for index, (order_id, price) in enumerate(prices.items())
    ]
    data = OrderRenewalRequestedData(
        renewal_id=uuid4(), customer=customer(customer_id), items=items
    )
    return OrderRenewalRequested(**_envelope(order_id=items[0].order_id), data=data)


def cancelled(order_id: UUID) -> OrderCancelled:
    data = OrderCancelledData(mode=CancellationMode.IMMEDIATE, reason="no longer needed")
    return OrderCancelled(**_envelope(order_id=order_id), data=data)


def payment(invoice_id: UUID, amount: str, payment_id: str | None = None) -> PaymentReceived:
    data = PaymentReceivedData(
        payment_id=payment_id or f"gw-{uuid4().hex[:12]}",
        invoice_id=invoice_id,
        amount=Money(amount=Decimal(amount), currency="EUR"),
        received_at=datetime.now(UTC),
    )
    return PaymentReceived(**_envelope(), data=data)


@dataclass
class Billing:
    """One running billing service and the test's view of it."""

    service: RunningService
    prefix: str
    producer: KafkaBroker
    clock: FrozenClock
    bootstrap: str
    replicas: list[RunningService] = field(default_factory=list)

    @property
    def http(self) -> httpx.AsyncClient:
        return self.service.http

    async def send(self, event: Envelope[Any]) -> None:
        """Publish an event to the topic billing reads it from, as its producer would."""
        topic = PAYMENTS if event.type.startswith("payment.") else ORDERS
        # Payments are keyed by invoice here, so a test's later payment for the same invoice
        # arrives after the earlier ones (the gateway's own keying is not ours to know).
        key = str(event.order_id or event.data.invoice_id).encode()
        await self.producer.publish(
            event.model_dump_json().encode(), topic=self.prefix + topic.name, key=key
        )

    async def published(
        self, type_: str, order_id: UUID | None = None, **data: Any
    ) -> list[Envelope[Any]]:
        """Billing's events of a type on billing.events (keyed by ``order_id`` when given)
        whose data has the given values: every event billing has committed so far, once its
        relay has published them (a job's events leave after its commit)."""
        await outbox_drained(self.service.runtime.database.engine)
        found = []
        for _, value, _ in await read_topic(self.bootstrap, self.prefix + BILLING.name):
            event = BILLING.parse(value)
            fields = json.loads(event.data.model_dump_json())
            if (
                event.type == type_
                and order_id in (None, event.order_id)
                and all(fields.get(k) == _json(v) for k, v in data.items())
            ):
                found.append(event)
        return found

    async def one(self, type_: str, order_id: UUID | None = None, **data: Any) -> Envelope[Any]:
        """Wait for the first such event to be published."""
        return (await eventually(lambda: self.published(type_, order_id, **data)))[0]

    async def invoices(self, who: dict[str, str], **params: Any) -> dict[str, Any]:
        response = await self.http.get("/invoices", params=params, headers=who)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def run_job(self, name: str) -> int | None:
        return await self.service.runtime.jobs.run_once(name)


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, UUID | date) else value


@pytest.fixture
async def producer(stack: Servers) -> AsyncIterator[KafkaBroker]:
    kafka = make_broker(stack.kafka_bootstrap, client_id="billing-test")
    await kafka.connect()
    yield kafka
    await kafka.stop()


@pytest.fixture
async def billing(
    stack: Servers, unique: str, producer: KafkaBroker, request: pytest.FixtureRequest
) -> AsyncIterator[Billing]:
    """Billing on a fresh database and topic prefix, its clock frozen at ``START``; a test
    module sets other settings with ``BILLING_SETTINGS = {...}``."""
    clock = FrozenClock(START)
    prefix = f"t{unique}."
    settings = getattr(request.module, "BILLING_SETTINGS", {})
    async with running_service("billing", stack, prefix=prefix, clock=clock, **settings) as service:
        yield Billing(service, prefix, producer, clock, stack.kafka_bootstrap)
