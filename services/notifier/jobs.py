"""Time-driven work of the notifier, each a job of the kit's scheduler (one pass at a time
across replicas): sending recorded mail and renewal reminders; giving up on events whose
order never became known is the kit's (``services.kit.parking``)."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime
from services.notifier import domain, repository
from services.notifier.domain import RetryPolicy
from services.notifier.mail_metrics import MailMetrics
from services.notifier.mailer import Sending, Smtp, send_due_mails
from services.notifier.notices import Teller, tell
from services.notifier.settings import NotifierSettings

log = logging.getLogger(__name__)

SEND_MAIL = "send_mail"
REMINDERS = "renewal_reminders"


async def send_reminders(
    work: UnitOfWork, now: datetime, *, teller: Teller, offsets: tuple[int, ...]
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
        await tell(work, teller, order, notice, now=now, **values)
        sent += 1
    return sent


def register(runtime: Runtime, teller: Teller, settings: NotifierSettings) -> None:
    """Register the notifier's jobs on the runtime's scheduler."""
    smtp = Smtp.from_settings(settings)
    retry = RetryPolicy(
        settings.mail_max_attempts, settings.mail_retry_first_delay, settings.mail_retry_max_delay
    )
    metrics = MailMetrics(runtime.registry)
    runtime.on_scrape(metrics.refresher(runtime.database.sessions))
    sending = Sending(smtp, retry, metrics, tracer=lambda: runtime.tracer)
    runtime.jobs.add(
        SEND_MAIL,
        settings.mail_poll_interval,
        partial(send_due_mails, sending=sending, batch=50),
        batch_size=50,
    )
    runtime.jobs.add(
        REMINDERS,
        settings.reminder_interval,
        partial(send_reminders, teller=teller, offsets=settings.reminder_offsets_days),
    )
