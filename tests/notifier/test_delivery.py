"""Mail exactly once: under redelivery, restarts and two replicas; delayed, not lost, while
the mail server is down; recorded as failed after the last try."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from contracts import NotificationDelivered, NotificationFailed
from services.kit.clock import FrozenClock
from tests.helpers import eventually
from tests.notifier import events
from tests.notifier.conftest import WAIT, Mailbox, Notifier, notifier_running
from tests.stack import Servers


@pytest.fixture
def own_mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    box = Mailbox(tmp_path / "mail")
    box.start()
    yield box
    box.stop()


def database_of(notifier: Notifier) -> str:
    return notifier.service.database_url.rsplit("/", 1)[1]


async def test_redelivered_events_and_a_restart_send_no_second_mail(
    stack: Servers, unique: str, own_mailbox: Mailbox, producer: AIOKafkaProducer
) -> None:
    clock, prefix = FrozenClock(events.AT), f"t{unique}."
    customer, order = f"c-{unique}", uuid4()
    suspension = events.suspended(order)
    async with notifier_running(stack, prefix, clock, own_mailbox, producer) as first:
        await first.publish(events.placed(order, customer), suspension, suspension)
        await first.mails_to(f"{customer}@example.com", 1)
        await first.publish(suspension)
        database = database_of(first)
    async with notifier_running(
        stack, prefix, clock, own_mailbox, producer, database=database
    ) as restarted:
        await restarted.publish(suspension)
        marker = events.cancelled(order)  # behind the duplicate on the order's partition
        await restarted.publish(marker)
        mails = await restarted.mails_to(f"{customer}@example.com", 2)
    assert sorted(m["X-Notification-Kind"] for m in mails) == [
        "cancellation",
        "suspension_non_payment",
    ]


async def test_two_replicas_send_each_mail_once(
    stack: Servers, unique: str, own_mailbox: Mailbox, producer: AIOKafkaProducer
) -> None:
    clock, prefix = FrozenClock(events.AT), f"t{unique}."
    customers = [f"c{n}-{unique}" for n in range(8)]
    async with notifier_running(stack, prefix, clock, own_mailbox, producer) as one:
        await replicated(one, own_mailbox, producer, customers)
    recipients = sorted(m["To"] for m in own_mailbox.messages())
    assert recipients == sorted(f"{customer}@example.com" for customer in customers)


async def replicated(
    one: Notifier, mailbox: Mailbox, producer: AIOKafkaProducer, customers: list[str]
) -> None:
    """A second replica on the same database and consumer group; both consume and send."""
    async with notifier_running(
        one.stack,
        one.prefix,
        one.service.runtime.clock,
        mailbox,
        producer,  # type: ignore[arg-type]
        database=database_of(one),
    ) as two:
        for customer in customers:
            order = uuid4()
            suspension = events.suspended(order)
            await one.publish(events.placed(order, customer), suspension, suspension)

        async def everyone_told() -> bool:
            await asyncio.gather(one.send_mail(), two.send_mail(), one.send_mail())
            return len(mailbox.messages()) >= len(customers)

        await eventually(everyone_told, timeout=WAIT)
        await asyncio.gather(one.send_mail(), two.send_mail())


async def test_a_stopped_mail_server_delays_mail_and_loses_none(
    stack: Servers, unique: str, own_mailbox: Mailbox, producer: AIOKafkaProducer
) -> None:
    clock, prefix = FrozenClock(events.AT), f"t{unique}."
    customer, order = f"c-{unique}", uuid4()
    own_mailbox.stop()
    async with notifier_running(
        stack, prefix, clock, own_mailbox, producer, mail_retry_first_delay=timedelta(minutes=5)
    ) as notifier:
        await notifier.publish(events.placed(order, customer), events.suspended(order))
        tried = "SELECT count(*) FROM mails WHERE attempts = 1 AND status = 'pending'"

        async def first_try_failed() -> bool:
            await notifier.send_mail()
            return await notifier.scalar(tried) == 1

        await eventually(first_try_failed, timeout=WAIT)
        own_mailbox.start()
        assert await notifier.send_mail() == 0, "the retry waits for its backoff"
        assert own_mailbox.messages() == []
        clock.advance(timedelta(minutes=5))
        [mail] = await notifier.mails_to(f"{customer}@example.com", 1)
        assert mail["Date"].datetime == events.AT, "when it was recorded, not when it was sent"
        assert mail["Message-ID"].endswith("@hosting.example>"), "From's domain by default"
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["Content-Language"] == "en"

        async def delivered() -> list[NotificationDelivered]:
            return [e for e in await notifier.events() if isinstance(e, NotificationDelivered)]

        [event] = await eventually(delivered, timeout=WAIT)
        assert event.data.recipient == f"{customer}@example.com"
        assert event.data.kind == mail["X-Notification-Kind"] == "suspension_non_payment"
        assert event.order_id == order


async def test_after_the_last_try_the_mail_is_recorded_as_failed(
    stack: Servers, unique: str, own_mailbox: Mailbox, producer: AIOKafkaProducer
) -> None:
    clock, prefix = FrozenClock(events.AT), f"t{unique}."
    customer, order = f"c-{unique}", uuid4()
    own_mailbox.stop()
    async with notifier_running(
        stack,
        prefix,
        clock,
        own_mailbox,
        producer,
        mail_max_attempts=2,
        mail_retry_first_delay=timedelta(minutes=1),
    ) as notifier:
        await notifier.publish(
            events.placed(order, customer),
            events.completed(order, paid_until=date(2025, 5, 1)),
            events.cancelled(order),
        )

        async def failed() -> list[NotificationFailed]:
            await notifier.send_mail()
            clock.advance(timedelta(minutes=1))
            return [e for e in await notifier.events() if isinstance(e, NotificationFailed)]

        [event] = await eventually(failed, timeout=WAIT)
        assert (event.data.attempts, event.data.kind) == (2, "cancellation")
        assert "Connect" in event.data.error or "refused" in event.data.error.lower()
        own_mailbox.start()
        clock.advance(timedelta(hours=1))
        assert await notifier.send_mail() == 0
        assert own_mailbox.messages() == []
