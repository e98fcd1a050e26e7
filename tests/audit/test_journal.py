"""The journal fills itself from every topic, once per event, and reads as the page says."""

from __future__ import annotations

import asyncio
import hashlib
import json
from uuid import uuid4

import pytest
from faststream.kafka import KafkaBroker

from services.kit.clock import FrozenClock
from tests.apps import RunningService
from tests.audit import events as ev
from tests.audit.conftest import STAFF, entry_count, journal, publish, verify


async def test_every_topic_is_journaled_once_per_event_under_duplicates(
    audit: RunningService, kafka: KafkaBroker, prefix: str
) -> None:
    first, second = uuid4(), uuid4()
    invoice = uuid4()
    at = ev.T0
    history = [
        ev.placed(first, at),
        ev.placed(second, at),
        ev.invoice_issued([first, second], at, invoice),
        ev.payment_received(invoice, at),
        ev.notified(first, at),
        ev.delivered(first, at, "192.0.2.55"),
        ev.incident_by_ip("192.0.2.55", at),
        ev.violation(first, at),
    ]
    for event in history:
        await publish(kafka, prefix, event, event)  # every event delivered twice
    await publish(kafka, prefix, ev.payment_received(uuid4(), at), ev.notified(None, at))

    entries = await entry_count(audit, first, 7)
    await asyncio.sleep(1.0)  # let late duplicates arrive: they must change nothing
    entries = await entry_count(audit, first, 7)
    assert len(entries) == 7
    assert [e["seq"] for e in entries] == list(range(1, 8))
    assert {e["type"] for e in entries} == {
        "order.placed", "invoice.issued", "payment.received", "notification.delivered",
        "service.delivered", "incident.opened", "violation.confirmed",
    }  # fmt: skip
    assert len(await entry_count(audit, second, 3)) == 3, "the batch invoice and its payment"
    assert (await verify(audit, first))["status"] == "whole"


@pytest.mark.parametrize("apart", [False, True], ids=["one batch", "later batches"])
async def test_a_payment_before_its_invoice_waits_then_joins_the_invoices_orders(
    audit: RunningService, kafka: KafkaBroker, prefix: str, apart: bool
) -> None:
    first, second, invoice, at = uuid4(), uuid4(), uuid4(), ev.T0
    await publish(kafka, prefix, ev.placed(first, at), ev.placed(second, at))
    await entry_count(audit, first, 1)
    # Names only its invoice, which no event has tied to an order yet: parked.
    await publish(kafka, prefix, ev.payment_received(invoice, at))
    if apart:
        await asyncio.sleep(1.0)  # consumed and parked before the invoice is sent
    # The invoice ties itself to both orders; the order after it finds it by its own order.
    await publish(kafka, prefix, ev.invoice_issued([first, second], at, invoice))
    await publish(kafka, prefix, ev.payment_received(invoice, at))

    for order_id in (first, second):
        entries = await entry_count(audit, order_id, 4)
        assert [e["type"] for e in entries] == [
            "order.placed", "invoice.issued", "payment.received", "payment.received",
        ]  # fmt: skip
        assert (await verify(audit, order_id))["status"] == "whole"


async def test_personal_data_stays_out_of_entries(
    audit: RunningService, kafka: KafkaBroker, prefix: str
) -> None:
    order_id = uuid4()
    await publish(kafka, prefix, ev.placed(order_id), ev.notified(order_id, ev.T0))
    entries = await entry_count(audit, order_id, 2)
    stored = json.dumps([{k: e[k] for k in ("summary", "details")} for e in entries])
    for personal in ("Jan Kowalski", "jan@example.com", "+48 600"):
        assert personal not in stored
    page = (await journal(audit, order_id)).json()
    assert page["header"]["customer_name"] == "Jan Kowalski", "the header, outside the hash"
    placed = next(e for e in entries if e["type"] == "order.placed")
    assert placed["actor"] == {"kind": "customer", "id": "cust-1", "name": "Jan Kowalski"}


#: What the export's documentation says to drop from a line before hashing it.
OUTSIDE_THE_HASH = {
    "prev_hash", "hash", "signature", "text", "text_salt", "redacted", "actor_name",
}  # fmt: skip


async def test_export_carries_hashes_that_verify_outside(
    audit: RunningService, kafka: KafkaBroker, prefix: str, clock: FrozenClock
) -> None:
    order_id = uuid4()
    await publish(kafka, prefix, *ev.lifecycle(order_id))
    await entry_count(audit, order_id, 9)
    answer = await audit.http.get(f"/orders/{order_id}/journal/export", headers=STAFF)
    lines = [json.loads(line) for line in answer.text.splitlines()]
    prev = "0" * 64
    for line in lines:
        content = {k: v for k, v in line.items() if k not in OUTSIDE_THE_HASH}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert line["prev_hash"] == prev
        assert hashlib.sha256(canonical.encode() + prev.encode()).hexdigest() == line["hash"]
        prev = line["hash"]
    assert prev == (await verify(audit, order_id))["head_hash"]
    csv = await audit.http.get(
        f"/orders/{order_id}/journal/export", headers=STAFF, params={"format": "csv"}
    )
    rows = csv.text.splitlines()
    assert rows[0].startswith("order_id,seq,kind")
    assert len(rows) == 10
    assert lines[-1]["hash"] in rows[-1]
