"""Poison messages on every topic the services consume, with the whole system running: malformed
(not JSON), truncated (a valid event cut in half), unknown type, a known type at a version the
contracts do not know, oversized (an otherwise valid event larger than a consumer accepts) and
wrongly keyed (a valid event about an order, under another order's key).
Each lands in its topic's DLQ once per consuming service, with its original bytes and an error
that names what is wrong, while the good messages around it (keyed like it, so on the same
partitions) take effect as if nothing had happened.

Then the replay: the audit service loses its INSERT grant on the journal (a release that forgot
it), so it dead-letters the events of an order placed meanwhile; after the grant is back, the
operator replays the audit service's handler failures with ``python -m services.kit.dlq
replay``, twice; each event is journaled once and the other services see the copies as
duplicates."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.engine import make_url

from contracts import (
    SYSTEM_ACTOR,
    TOPICS,
    Envelope,
    IncidentResolved,
    Money,
    NotificationChannel,
    NotificationDelivered,
    OrderCommentChanged,
    PaymentFailed,
    PaymentRecorded,
    PaymentSource,
    ServiceDelivered,
    ViolationLifted,
)
from contracts.billing import PaymentRecordedData
from contracts.inbound import (
    IncidentResolvedData,
    PaymentFailedData,
    ServiceDeliveredData,
    ViolationLiftedData,
)
from contracts.notifier import NotificationDeliveredData
from contracts.orders import OrderCommentChangedData
from services.kit.consumer import MAX_MESSAGE_BYTES
from services.kit.kafka import EVENT_PARTITIONS
from tests.apps import ROOT
from tests.e2e.story import (
    ADA,
    GATEWAY,
    MONITORING,
    PATIENCE,
    STAFF,
    banner_gone,
    banner_shown,
    confirm_violation,
    deliver,
    first_invoice,
    get_json,
    incident_opened,
    incident_resolved,
    invoice_where,
    lift_violation,
    order_in,
    payment_received,
    place,
)
from tests.e2e.system import SERVICES, OutsideWorld, System
from tests.helpers import eventually, read_topic
from tests.reliability.conftest import Recorder

#: Who reads each topic (each service's ``reactions.py``): a bad message is dead-lettered once
#: by each of them, in the topic's DLQ, with ``x-dlq-consumer`` naming it.
CONSUMERS: dict[str, set[str]] = {
    "orders.events": {"billing", "notifier", "audit"},
    "billing.events": {"orders", "notifier", "audit"},
    "notifier.events": {"audit"},
    "payments.events": {"billing", "audit"},
    "provisioning.events": {"orders", "audit"},
    "abuse.events": {"orders", "audit"},
    "monitoring.events": {"notifier", "audit"},
}

KINDS = ("malformed", "truncated", "unknown_type", "wrong_version", "oversized", "wrong_key")

#: An otherwise valid event this much larger than the limit: refused for its size alone.
OVERSIZED_BY = 40 * 1024


# --- the messages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Poison:
    """A bad message as sent, and what its dead letters must say."""

    topic: str
    kind: str
    raw: bytes
    #: The ``x-dlq-kind`` every consumer gives it, and a part of the error each must name.
    dlq_kind: str
    says: str
    event_id: str | None = None
    #: The Kafka key it is sent with, when not its order's.
    key: str | None = None


def template(topic: str, order_id: UUID, invoice_id: UUID, system: System) -> Envelope[Any]:
    """A valid event of ``topic`` about the order, harmless if applied: the bad messages are
    made from it, so the only thing wrong with each is the one thing its kind says."""
    now = system.now()
    envelope: dict[str, Any] = {
        "occurred_at": now,
        "correlation_id": uuid4(),
        "actor": SYSTEM_ACTOR,
        "order_id": order_id,
    }
    eur = Money(amount=Decimal("1.00"), currency="EUR")
    events: dict[str, Envelope[Any]] = {
        "orders.events": OrderCommentChanged(
            **envelope, producer="orders", data=OrderCommentChangedData(comment="poison")
        ),
        "billing.events": PaymentRecorded(
            **envelope,
            producer="billing",
            data=PaymentRecordedData(
                payment_id="pay-poison",
                invoice_id=invoice_id,
                amount=eur,
                source=PaymentSource.GATEWAY,
            ),
        ),
        "notifier.events": NotificationDelivered(
            **envelope,
            producer="notifier",
            data=NotificationDeliveredData(
                notification_id=uuid4(),
                channel=NotificationChannel.EMAIL,
                kind="acceptance",
                recipient="ada@example.com",
            ),
        ),
        "payments.events": PaymentFailed(
            **{**envelope, "actor": GATEWAY, "order_id": None},
            producer="payment-gateway",
            data=PaymentFailedData(
                payment_id="pay-poison", invoice_id=invoice_id, amount=eur, error="card declined"
            ),
        ),
        "provisioning.events": ServiceDelivered(
            **envelope,
            producer="provisioning",
            data=ServiceDeliveredData(
                main_ip="192.0.2.99", contract="PKG-POISON", starts_on=now.date()
            ),
        ),
        "abuse.events": ViolationLifted(
            **envelope, producer="abuse-desk", data=ViolationLiftedData(case_id="abuse-poison")
        ),
        "monitoring.events": IncidentResolved(
            **{**envelope, "actor": MONITORING, "order_id": None},
            producer="monitoring",
            data=IncidentResolvedData(incident_id="inc-poison"),
        ),
    }
    return events[topic]


def poison(topic: str, kind: str, valid: Envelope[Any]) -> Poison:
    body = json.loads(valid.model_dump_json())
    tag = f"{valid.type}@{valid.version}"
    if kind == "malformed":
        raw = b"\xff\xfe<event>not json</event> " + f"{topic} {uuid4()}".encode()
        return Poison(topic, kind, raw, "invalid", "Invalid JSON")
    if kind == "truncated":
        whole = valid.model_dump_json().encode()
        return Poison(topic, kind, whole[: len(whole) // 2], "invalid", "Invalid JSON")
    body["event_id"] = str(uuid4())
    if kind == "unknown_type":
        body["type"] = valid.type.split(".")[0] + ".teleported"
        says = f"{body['type']}@1: unknown event type"
        return Poison(
            topic, kind, json.dumps(body).encode(), "unknown_type", says, body["event_id"]
        )
    if kind == "wrong_version":
        body["version"] = 99
        says = f"{valid.type}@99: unknown version 99 of {valid.type} on {topic}"
        says += f" (the contracts define {tag})"
        raw = json.dumps(body).encode()
        return Poison(topic, kind, raw, "unknown_version", says, body["event_id"])
    if kind == "wrong_key":
        key = str(uuid4())
        says = f"{tag} about order {valid.order_id} came with the key '{key}'"
        raw = json.dumps(body).encode()
        return Poison(topic, kind, raw, "wrong_key", says, body["event_id"], key)
    assert kind == "oversized"
    body["padding"] = "x" * (MAX_MESSAGE_BYTES + OVERSIZED_BY)  # an unknown field: ignored
    raw = json.dumps(body).encode()
    assert TOPICS[topic].parse(raw).event_id == UUID(body["event_id"]), "valid but for its size"
    says = f"oversized: {len(raw)} bytes, more than the {MAX_MESSAGE_BYTES} bytes"
    return Poison(topic, kind, raw, "oversized", says, body["event_id"])


async def send_raw(world: OutsideWorld, system: System, topic: str, raw: bytes, key: str) -> None:
    await world.broker.publish(raw, topic=system.prefix + topic, key=key.encode())


async def send_poison(
    world: OutsideWorld, system: System, order_id: str, invoice_id: str, kinds: Sequence[str]
) -> list[Poison]:
    sent = []
    for topic in TOPICS:
        valid = template(topic, UUID(order_id), UUID(invoice_id), system)
        for kind in kinds:
            if kind == "wrong_key" and valid.order_id is None:
                continue  # about no order (a payment, an incident): any key is right
            bad = poison(topic, kind, valid)
            await send_raw(world, system, topic, bad.raw, bad.key or order_id)
            sent.append(bad)
    return sent


# --- what the operator looks at ---------------------------------------------------------------


async def dead_letters(system: System) -> dict[str, list[tuple[bytes, dict[str, str]]]]:
    """Every DLQ's messages by topic: (original bytes, headers as text)."""
    found = {}
    for topic in TOPICS:
        records = await read_topic(system.stack.kafka_bootstrap, f"{system.prefix}{topic}.dlq")
        found[topic] = [
            (value, {name: raw.decode() for name, raw in headers.items()})
            for _, value, headers in records
        ]
    return found


async def quiet(system: System) -> bool:
    """Nothing left to do: every outbox published, every consumer group committed up to the
    end of every topic it reads, and no message arrived while that was checked."""
    ends = await topic_ends(system)
    for service in SERVICES:
        database = await asyncpg.connect(system.stack.admin_url(database_of(system, service)))
        try:
            if await database.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                return False
        finally:
            await database.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=system.stack.kafka_bootstrap)
    await admin.start()
    try:
        for service in SERVICES:
            committed = await admin.list_consumer_group_offsets(system.prefix + service)
            for partition, end in ends.items():
                topic = partition.topic.removeprefix(system.prefix)
                if service not in CONSUMERS[topic] or not end:
                    continue
                done = committed.get(partition)
                if done is None or done.offset < end:
                    return False
    finally:
        await admin.close()
    return await topic_ends(system) == ends


async def topic_ends(system: System) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=system.stack.kafka_bootstrap)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(system.prefix + topic, p)
            for topic in TOPICS
            for p in range(EVENT_PARTITIONS)
        ]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def settle(system: System) -> None:
    await eventually(lambda: quiet(system), timeout=PATIENCE, interval=1.0)


def database_of(system: System, service: str) -> str:
    return str(make_url(system.environment()[f"{service.upper()}_DATABASE_URL"]).database)


async def journal(http: httpx.AsyncClient, system: System, order_id: str) -> list[dict[str, Any]]:
    url = f"{system.url('audit')}/orders/{order_id}/journal?order=oldest&limit=200"
    page = await get_json(http, url, STAFF)
    assert page["next_cursor"] is None, "one page holds the whole journal"
    return list(page["entries"])


async def journal_verifies(http: httpx.AsyncClient, system: System, order_id: str) -> None:
    url = f"{system.url('audit')}/orders/{order_id}/journal/verify"
    verified = await get_json(http, url, STAFF)
    assert verified["status"] == "whole", verified


async def journal_with(
    http: httpx.AsyncClient, system: System, order_id: str, event_ids: set[str]
) -> list[dict[str, Any]]:
    async def complete() -> Any:
        entries = await journal(http, system, order_id)
        return entries if event_ids <= {str(e["event_id"]) for e in entries} else None

    return list(await eventually(complete, timeout=PATIENCE, interval=0.5))


async def consumer_outcomes(system: System, outcome: str) -> dict[str, float]:
    """``consumer_messages_total`` of one outcome, per service, from its ``/metrics``."""
    found: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for service in SERVICES:
            text = (await http.get(f"{system.url(service)}/metrics")).text
            found[service] = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("consumer_messages_total{") and f'outcome="{outcome}"' in line
            )
    return found


async def events_about(system: System, order_id: str, invoice_id: str) -> list[dict[str, Any]]:
    """The events of the order on the platform's topics: named by order or by its invoice."""
    found = []
    for topic in TOPICS:
        for _, value, _ in await read_topic(system.stack.kafka_bootstrap, system.prefix + topic):
            try:
                event = json.loads(value)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            data = event.get("data") or {}
            if order_id in (event.get("order_id"), *data.get("order_ids", [])) or (
                data.get("invoice_id") == invoice_id
            ):
                found.append(event)
    return found


async def replay(system: System, topics: Sequence[str], *extra: str) -> dict[str, int]:
    """The operator's command: replay the audit service's handler failures in these topics'
    DLQs; how many it sent back from each."""
    command = [
        sys.executable,
        "-m",
        "services.kit.dlq",
        "replay",
        *(f"{system.prefix}{topic}.dlq" for topic in topics),
        "--consumer",
        "audit",
        "--kind",
        "handler",
        "--bootstrap",
        system.stack.kafka_bootstrap,
        *extra,
    ]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=PATIENCE)
    assert process.returncode == 0, output.decode()
    counts = {}
    for line in output.decode().splitlines():
        if line.startswith("replayed "):
            words = line.split()
            counts[words[-1].removeprefix(system.prefix).removesuffix(".dlq")] = int(words[1])
    assert set(counts) == set(topics), output.decode()
    return counts


# --- the tests --------------------------------------------------------------------------------


async def test_poison_on_every_topic_is_dead_lettered_and_the_good_flow_goes_on(
    system: System, world: OutsideWorld, figures: Recorder
) -> None:
    assert set(CONSUMERS) == set(TOPICS), "every topic is read by someone, and listed here"
    async with httpx.AsyncClient(timeout=10) as http:
        order = await place(http, system)
        order_id = order["id"]
        invoice = await first_invoice(http, system, order_id)

        # Malformed and truncated ones first, on every topic, before the payment ...
        sent = await send_poison(world, system, order_id, invoice["id"], KINDS[:2])
        # Good events are keyed by the order like the bad ones, so they follow them on one
        # partition (the gateway and monitoring name no order: unkeyed, they would not).
        await world.send(payment_received(system, invoice), key=order_id)
        await order_in(http, system, order_id, "in_progress")
        assert (await invoice_where(http, system, order_id, status="paid"))["id"] == invoice["id"]

        # ... the unknown types, wrong versions and oversized ones after it, before the rest.
        sent += await send_poison(world, system, order_id, invoice["id"], KINDS[2:])
        await deliver(world, system, order_id, "203.0.113.40")
        processed = await order_in(http, system, order_id, "processed")
        assert processed["main_ip"] == "203.0.113.40"

        case = f"abuse-{uuid4().hex[:6]}"
        await confirm_violation(world, system, order_id, case)
        suspended = await order_in(http, system, order_id, "suspended_violation")
        assert suspended["suspension"]["violation_cases"] == [case]
        await lift_violation(world, system, order_id, case)
        await order_in(http, system, order_id, "processed")

        incident = f"inc-{uuid4().hex[:6]}"
        await world.send(incident_opened(system, incident, "203.0.113.40"), key=order_id)
        await banner_shown(http, system, order_id, "orders_tab", "incident")
        await world.send(incident_resolved(system, incident), key=order_id)
        await banner_gone(http, system, order_id, "orders_tab", "incident")

        declined = PaymentFailed(
            occurred_at=system.now(),
            producer="payment-gateway",
            correlation_id=uuid4(),
            actor=GATEWAY,
            data=PaymentFailedData(
                payment_id=f"pay-{uuid4().hex[:8]}",
                invoice_id=UUID(invoice["id"]),
                amount=Money(**invoice["total"]),
                error="card declined",
            ),
        )
        await world.send(declined, key=order_id)
        good_inbound = 7  # payment, delivery, violation and its lift, incident and its end, decline

        await settle(system)

        # Each bad message: in its topic's DLQ once per consumer, original bytes, its error.
        letters = await dead_letters(system)
        for bad in sent:
            found = [headers for value, headers in letters[bad.topic] if value == bad.raw]
            consumers = sorted(headers["x-dlq-consumer"] for headers in found)
            assert consumers == sorted(CONSUMERS[bad.topic]), (bad.topic, bad.kind, consumers)
            for headers in found:
                assert headers["x-dlq-kind"] == bad.dlq_kind, (bad.topic, bad.kind, headers)
                assert bad.says in headers["x-dlq-error"], (bad.topic, bad.kind, headers)
                assert headers["x-original-topic"] == system.prefix + bad.topic
        dead = sum(len(found) for found in letters.values())
        assert dead == sum(len(CONSUMERS[bad.topic]) for bad in sent), "and no good one"

        # The good ones took effect once each, the bad ones none: the journal says so.
        entries = await journal(http, system, order_id)
        ids = [str(entry["event_id"]) for entry in entries if entry["event_id"]]
        assert len(ids) == len(set(ids)), "no event journaled twice"
        assert not {bad.event_id for bad in sent} & set(ids), "no bad event journaled"
        wanted = {
            "order.placed",
            "invoice.issued",
            "payment.received",
            "invoice.paid",
            "order.accepted",
            "service.delivered",
            "order.completed",
            "violation.confirmed",
            "order.suspended",
            "violation.lifted",
            "order.reactivated",
            "incident.opened",
            "incident.resolved",
            "payment.failed",
        }
        assert wanted <= {entry["type"] for entry in entries}, [e["type"] for e in entries]
        await journal_verifies(http, system, order_id)
        [paid] = await invoices(http, system, order_id)
        assert paid["status"] == "paid"
        assert (await get_json(http, f"{system.url('orders')}/orders/{order_id}", ADA))[
            "status"
        ] == "processed"

    kinds = Counter(bad.kind for bad in sent)
    figures(
        **{f"sent_{kind}": kinds[kind] for kind in KINDS},
        dead_lettered=dead,
        good_inbound_sent=good_inbound,
        good_journaled=len(ids),
        bad_applied=0,
        duplicates=len(ids) - len(set(ids)),
    )


async def test_dlq_replay_after_the_fix_applies_each_message_once(
    system: System, world: OutsideWorld, figures: Recorder
) -> None:
    role = make_url(system.environment()["AUDIT_DATABASE_URL"]).username
    audit_db = await asyncpg.connect(system.stack.admin_url(database_of(system, "audit")))
    broken = True
    await audit_db.execute(f"REVOKE INSERT ON journal_entries FROM {role}")
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            order = await place(http, system, "vps-m")
            order_id = order["id"]
            invoice = await first_invoice(http, system, order_id)
            await world.send(payment_received(system, invoice), key=order_id)
            accepted = await order_in(http, system, order_id, "in_progress")

            async def acceptance_mail() -> Any:
                return [m for m in system.mails() if accepted["service_name"] in m["Subject"]]

            await eventually(acceptance_mail, timeout=PATIENCE, interval=0.5)
            await settle(system)

            # The fault as staff see it: the order has no journal.
            url = f"{system.url('audit')}/orders/{order_id}/journal"
            assert (await http.get(url, headers=STAFF)).status_code == 404

            async def each_event_dead_lettered_by_audit() -> Any:
                about = await events_about(system, order_id, invoice["id"])
                named = {e["event_id"] for e in about if e.get("order_id") == order_id}
                failed = [
                    (topic, json.loads(value)["event_id"], headers)
                    for topic, found in (await dead_letters(system)).items()
                    for value, headers in found
                    if headers["x-dlq-kind"] == "handler"
                ]
                done = sorted(event_id for _, event_id, _ in failed) == sorted(named)
                return (about, failed) if done else None

            # Every event naming the order, none other, each once (a mail's delivery may follow).
            about, failed = await eventually(
                each_event_dead_lettered_by_audit, timeout=PATIENCE, interval=1.0
            )
            assert all(headers["x-dlq-consumer"] == "audit" for _, _, headers in failed)
            assert all("permission denied" in headers["x-dlq-error"] for _, _, headers in failed)

            # The fix: the grant is back. Then the operator replays what audit could not apply.
            await audit_db.execute(f"GRANT INSERT ON journal_entries TO {role}")
            broken = False
            topics = sorted({topic for topic, _, _ in failed})
            duplicates_before = await consumer_outcomes(system, "duplicate")
            first = await replay(system, topics)
            again = await replay(system, topics)
            second = await replay(system, topics, "--group", f"{system.prefix}second-look")
            assert sum(first.values()) == len(failed)
            assert sum(again.values()) == 0, "the group remembers what it replayed"
            assert sum(second.values()) == len(failed), "another group replays it all again"

            every = {e["event_id"] for e in about}
            await journal_with(http, system, order_id, every)
            await settle(system)
            duplicates_after = await consumer_outcomes(system, "duplicate")

            entries = await journal(http, system, order_id)
            counted = Counter(str(entry["event_id"]) for entry in entries if entry["event_id"])
            assert {event_id: counted[event_id] for event_id in every} == dict.fromkeys(every, 1)
            assert max(counted.values()) == 1, counted
            await journal_verifies(http, system, order_id)
            ignored = {s: duplicates_after[s] - duplicates_before[s] for s in SERVICES}
            # The second replay's copies reached audit, and the inbox knew every one of them.
            assert ignored["audit"] >= len(failed), ignored

            # The other services saw the copies as duplicates: nothing happened twice.
            assert (await get_json(http, f"{url}/verify", STAFF))["entries"] == len(entries)
            assert len(await invoices(http, system, order_id)) == 1
            tickets = await get_json(http, f"{system.url('notifier')}/tickets?limit=200", ADA)
            assert [t["reason"] for t in tickets["items"] if t["order_id"] == order_id] == [
                "acceptance"
            ]
            assert len(await acceptance_mail()) == 1
            assert (await get_json(http, f"{system.url('orders')}/orders/{order_id}", ADA))[
                "invoice_count"
            ] == 1
    finally:
        if broken:
            await audit_db.execute(f"GRANT INSERT ON journal_entries TO {role}")
        await audit_db.close()

    figures(
        dead_lettered_while_broken=len(failed),
        replayed_first=sum(first.values()),
        replayed_again_same_group=sum(again.values()),
        replayed_second_group=sum(second.values()),
        applied_after_replay=sum(counted[event_id] for event_id in every),
        journal_duplicates=sum(n - 1 for n in counted.values()),
        copies_ignored_as_duplicates=int(sum(ignored.values())),
    )


async def invoices(http: httpx.AsyncClient, system: System, order_id: str) -> list[Any]:
    url = f"{system.url('billing')}/invoices?order_id={order_id}"
    return list((await get_json(http, url, ADA))["items"])
