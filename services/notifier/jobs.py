"""Time-driven work of the notifier, each a job of the kit's scheduler (one pass at a time
across replicas): sending recorded mail, renewal reminders, and giving up on events whose
order never became known."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from faststream.kafka import KafkaBroker

from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime
from services.notifier import domain, repository
from services.notifier.domain import RetryPolicy
from services.notifier.mailer import Smtp, send_due_mails
from services.notifier.notices import Context, tell
from services.notifier.settings import NotifierSettings

log = logging.getLogger(__name__)

SEND_MAIL = "send_mail"
REMINDERS = "renewal_reminders"
EXPIRE_PARKED = "expire_parked_events"


async def send_reminders(
    work: UnitOfWork, now: datetime, *, ctx: Context, offsets: tuple[int, ...]
) -> int:
    """Record the renewal reminder due today for each active order, once per order, paid
    period and offset (the ``reminders`` key); returns how many were recorded."""
    today = now.date()
    first, last = domain.reminder_window(today, offsets)
    sent = 0
    for order in await repository.orders_to_remind(work.session, first, last):
        offset = domain.due_reminder(order.paid_until, today, offsets)
        if offset is None or not await repository.claim_reminder(
            work.session,
            order_id=order.order_id,
            paid_until=order.paid_until,
            offset_days=offset,
            now=now,
        ):
            continue
        # The newest reminder replaces the banner of the previous one.
        await repository.resolve_banners(work.session, [domain.renewal_cause(order.order_id)], now)
        notice = domain.reminder_notice(order.order_id, order.paid_until, offset)
        days_left = domain.days_left(order.paid_until, today)
        values = {"days_left": days_left, "paid_until": order.paid_until.isoformat()}
        await tell(work, ctx, order, notice, now=now, **values)
        sent += 1
    return sent


async def expire_parked(
    work: UnitOfWork, now: datetime, *, settings: NotifierSettings, broker: KafkaBroker
) -> int:
    """Events parked longer than allowed go to their topic's DLQ, to be replayed by hand.

    Published before the commit: a pass that fails to commit publishes them again, which a
    DLQ reader sees as the same event twice, never as one lost."""
    expired = await repository.take_expired_parked(
        work.session, now - settings.parked_max_age, limit=100
    )
    for event in expired:
        await broker.publish(
            event.payload,
            topic=f"{settings.kafka_topic_prefix}{event.topic}.dlq",
            key=str(event.order_id).encode(),
            headers={
                "x-dlq-kind": "unknown_order",
                "x-dlq-error": f"order {event.order_id} unknown since {event.parked_at}",
                "x-dlq-consumer": settings.service_name,
                "x-original-topic": settings.kafka_topic_prefix + event.topic,
            },
        )
        log.warning("parked event of unknown order %s dead-lettered", event.order_id)
    return len(expired)


def add_jobs(runtime: Runtime, ctx: Context, settings: NotifierSettings) -> None:
    """Register the notifier's jobs on the runtime's scheduler."""
    smtp = Smtp.from_settings(settings)
    retry = RetryPolicy(
        settings.mail_max_attempts, settings.mail_retry_first_delay, settings.mail_retry_max_delay
    )
    runtime.jobs.add(
        SEND_MAIL,
        settings.mail_poll_interval,
        partial(send_due_mails, smtp=smtp, retry=retry, batch=50),
        batch_size=50,
    )
    runtime.jobs.add(
        REMINDERS,
        settings.reminder_interval,
        partial(send_reminders, ctx=ctx, offsets=settings.reminder_offsets_days),
    )
    runtime.jobs.add(
        EXPIRE_PARKED,
        settings.parked_check_interval,
        partial(expire_parked, settings=settings, broker=runtime.broker),
        batch_size=100,
    )
