"""What the orders tests share: a running orders service, tokens, inbound events to publish
on the service's prefixed topics and its own events read back from Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
from aiokafka import AIOKafkaProducer

import contracts as c
from contracts.billing import (
    InvoiceIssuedData,
    InvoiceLine,
    InvoiceOverdueData,
    InvoicePaidData,
    InvoiceVoidedData,
)
from contracts.envelope import Envelope
from contracts.inbound import ServiceDeliveredData, ViolationConfirmedData, ViolationLiftedData
from services.kit.clock import FrozenClock
from tests.apps import RunningService, bearer
from tests.helpers import eventually, outbox_drained, read_topic

START = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
STAFF = bearer("staff", "staff-1", name="Stella Staff")
BILLING_ACTOR = c.Actor(kind=c.ActorKind.SERVICE, id="billing", name="Billing")


@dataclass
class Orders:
    """The orders service under test, its clock and its topic prefix."""

    service: RunningService
    clock: FrozenClock
    prefix: str
    bootstrap: str

    @property
    def http(self) -> httpx.AsyncClient:
        return self.service.http

    async def place(
        self, customer: dict[str, str], plan: str = "vps-s", period: int = 1, **fields: Any
    ) -> dict[str, Any]:
        body = {"plan": plan, "period_months": period, **fields}
        response = await self.http.post("/orders", json=body, headers=customer)
        assert response.status_code == 201, response.text
        return response.json()

    async def detail(self, order_id: str, who: dict[str, str] = STAFF) -> dict[str, Any]:
        response = await self.http.get(f"/orders/{order_id}", headers=who)
        assert response.status_code == 200, response.text
        return response.json()

    async def staff(self, order_id: str, action: str, **body: Any) -> httpx.Response:
        return await self.http.post(f"/orders/{order_id}/{action}", json=body, headers=STAFF)

    async def active(self, customer: dict[str, str], **fields: Any) -> dict[str, Any]:
        """An order placed, paid (through billing's event) and completed by staff."""
        order = await self.place(customer, **fields)
        await self.publish(paid([order["id"]]))
        await self.wait_status(order["id"], "in_progress")
        done = await self.staff(
            order["id"], "complete", contract="C-1", starts_on="2025-03-10", main_ip="203.0.113.7"
        )
        assert done.status_code == 200, done.text
        return done.json()

    async def wait_status(self, order_id: str, status: str) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            detail = await self.detail(order_id)
            return detail if detail["status"] == status else None

        return await eventually(reached, timeout=20)

    async def wait_invoice_count(self, order_id: str, count: int) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            detail = await self.detail(order_id)
            return detail if detail["invoice_count"] == count else None

        return await eventually(reached, timeout=20)

    async def publish(self, *events: Envelope[Any]) -> None:
        """Publish inbound events, in order, to their prefixed topics (keyed by order)."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            for event in events:
                topic = self.prefix + _topic_of(event)
                key = str(event.order_id).encode() if event.order_id else None
                await producer.send_and_wait(topic, event.model_dump_json().encode(), key=key)
        finally:
            await producer.stop()

    async def published(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """This service's events on ``orders.events`` (of one order, if given): every event
        it has committed so far, once its relay has published them."""
        await outbox_drained(self.service.runtime.database.engine)
        found = await read_topic(self.bootstrap, self.prefix + "orders.events")
        events = [c.ORDERS.parse(value).model_dump(mode="json") for _, value, _ in found]
        return [e for e in events if order_id is None or e["order_id"] == order_id]

    async def wait_published(
        self, order_id: str, type_: str, count: int = 1
    ) -> list[dict[str, Any]]:
        async def arrived() -> list[dict[str, Any]] | None:
            events = [e for e in await self.published(order_id) if e["type"] == type_]
            return events if len(events) >= count else None

        return await eventually(arrived, timeout=20)


def _topic_of(event: Envelope[Any]) -> str:
    return next(name for name, topic in c.TOPICS.items() if type(event) in topic.models.values())


def customer(name: str | None = None) -> dict[str, str]:
    """A new customer's bearer header (a fresh id each call)."""
    sub = f"cust-{uuid.uuid4().hex[:8]}"
    return bearer("customer", sub, name=name or sub.title())


def customer_id(headers: dict[str, str]) -> str:
    import jwt

    token = headers["Authorization"].removeprefix("Bearer ")
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


# --- inbound events ---------------------------------------------------------------------------


def _envelope(**fields: Any) -> dict[str, Any]:
    return {
        "occurred_at": START,
        "producer": "billing",
        "correlation_id": uuid.uuid4(),
        "actor": BILLING_ACTOR,
        **fields,
    }


def _lines(order_ids: Sequence[str], months: int) -> list[InvoiceLine]:
    amount = c.Money(amount=Decimal("4.00") * months, currency="EUR")
    return [
        InvoiceLine(order_id=UUID(o), description="service", period_months=months, amount=amount)
        for o in order_ids
    ]


def _invoice(
    order_ids: Sequence[str],
    kind: str,
    months: int,
    invoice_id: UUID | None,
    renewal_id: UUID | None,
) -> dict[str, Any]:
    lines = _lines(order_ids, months)
    total = c.Money(amount=sum(line.amount.amount for line in lines), currency="EUR")
    return {
        "invoice_id": invoice_id or uuid.uuid4(),
        "number": "INV-1",
        "kind": kind,
        "customer_id": "someone",
        "lines": lines,
        "total": total,
        "renewal_id": renewal_id,
    }


def issued(order_ids: Sequence[str], invoice_id: UUID | None = None) -> c.InvoiceIssued:
    data = InvoiceIssuedData(
        **_invoice(order_ids, "initial", 1, invoice_id, None),
        issued_on=date(2025, 3, 10),
        due_on=date(2025, 3, 24),
    )
    return c.InvoiceIssued(**_envelope(order_id=UUID(order_ids[0]), data=data))


def paid(
    order_ids: Sequence[str],
    *,
    kind: str = "initial",
    months: int = 1,
    invoice_id: UUID | None = None,
    renewal_id: UUID | None = None,
    was_overdue: bool = False,
) -> c.InvoicePaid:
    data = InvoicePaidData(
        **_invoice(order_ids, kind, months, invoice_id, renewal_id),
        paid_at=START,
        was_overdue=was_overdue,
    )
    return c.InvoicePaid(**_envelope(order_id=UUID(order_ids[0]), data=data))


def overdue(order_ids: Sequence[str], stage: str, invoice_id: UUID) -> c.InvoiceOverdue:
    data = InvoiceOverdueData(
        invoice_id=invoice_id,
        number="INV-2",
        customer_id="someone",
        order_ids=[UUID(o) for o in order_ids],
        stage=stage,
        due_on=date(2025, 4, 1),
        days_overdue=7,
    )
    return c.InvoiceOverdue(**_envelope(order_id=UUID(order_ids[0]), data=data))


def voided(order_ids: Sequence[str], invoice_id: UUID) -> c.InvoiceVoided:
    data = InvoiceVoidedData(
        invoice_id=invoice_id,
        number="INV-3",
        customer_id="someone",
        order_ids=[UUID(o) for o in order_ids],
        reason="written off",
    )
    return c.InvoiceVoided(**_envelope(order_id=UUID(order_ids[0]), data=data))


def delivered(order_id: str, ip: str = "198.51.100.4") -> c.ServiceDelivered:
    data = ServiceDeliveredData(main_ip=ip, contract="PKG-9", starts_on=date(2025, 3, 12))
    return c.ServiceDelivered(
        **_envelope(order_id=UUID(order_id), producer="provisioning", data=data)
    )


def violation(order_id: str, case_id: str = "case-1") -> c.ViolationConfirmed:
    data = ViolationConfirmedData(case_id=case_id, reason="spam from the server")
    return c.ViolationConfirmed(**_envelope(order_id=UUID(order_id), producer="abuse", data=data))


def lifted(order_id: str, case_id: str = "case-1") -> c.ViolationLifted:
    data = ViolationLiftedData(case_id=case_id, note="remedied")
    return c.ViolationLifted(**_envelope(order_id=UUID(order_id), producer="abuse", data=data))


def fill_sql(rows: int, customer_id: str, every: int) -> str:
    """SQL that adds ``rows`` varied orders straight into the table, one in ``every`` of them
    the customer's (for query plans and the list benchmark)."""
    return f"""
INSERT INTO orders (id, created_at, service_name, product, plan, price, currency, period_months,
    customer_id, customer_name, customer_email, customer_locale, comment, status, paid_until,
    main_ip)
SELECT gen_random_uuid(), timestamptz '2024-01-01' + n * interval '1 minute',
    substr(md5(n::text), 1, 8), 'vps', 'vps-s', 4.00, 'EUR', 1,
    CASE WHEN n % {every} = 0 THEN '{customer_id}' ELSE 'customer-' || (n % 9000) END,
    'Name', 'x@example.com', 'en',
    CASE WHEN n % 3 = 0 THEN 'comment ' || substr(md5(n::text), 1, 6) END,
    (ARRAY['not_processed', 'in_progress', 'processed', 'on_hold', 'cancelled',
           'suspended_violation', 'suspended_non_payment'])[1 + n % 7],
    CASE WHEN n % 7 = 2 THEN date '2025-01-01' + n % 400 END,
    CASE WHEN n % 7 = 2
        THEN '10.' || (n / 65536) % 256 || '.' || (n / 256) % 256 || '.' || n % 256 END
FROM generate_series(1, {rows}) AS n
"""
