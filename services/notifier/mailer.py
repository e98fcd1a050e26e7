"""Sending the recorded mails: after the commit that recorded them, by a job, so a mail is
never sent for a fact that was rolled back. A failed try waits with backoff (the mail server
being down delays mail, it loses none); after the last try the mail is recorded as failed.
Each outcome is published: ``notification.delivered`` or ``notification.failed``.

A pass holds its mails locked (``SKIP LOCKED``) and the job's advisory lock while it sends,
so two replicas never send the same mail. A process killed between the server's acceptance
and the commit sends that mail again on the next pass: the ``Message-ID`` stays the same,
so the receiving side can tell."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosmtplib

from contracts import SYSTEM_ACTOR, NotificationChannel, NotificationDelivered, NotificationFailed
from contracts.notifier import NotificationDeliveredData, NotificationFailedData
from services.kit.db import UnitOfWork
from services.notifier import repository
from services.notifier.domain import RetryPolicy
from services.notifier.message import Identity, RecordedMail, wire_bytes

#: Errors that mean "this try failed": the server is down, refused or timed out.
SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


@dataclass(frozen=True)
class Smtp:
    """Where mail goes and who it comes from."""

    host: str
    port: int
    identity: Identity
    timeout: timedelta

    async def send(self, mail: RecordedMail) -> None:
        await aiosmtplib.send(
            wire_bytes(mail, self.identity),
            sender=self.identity.address,
            recipients=[mail.recipient],
            hostname=self.host,
            port=self.port,
            timeout=self.timeout.total_seconds(),
            start_tls=False,
        )


async def send_due_mails(
    work: UnitOfWork, now: datetime, *, smtp: Smtp, retry: RetryPolicy, batch: int
) -> int:
    """One pass: try every due mail once; returns how many were tried."""
    due = await repository.due_mails(work.session, now, batch)
    for mail in due:
        await _try(work, mail, now, smtp, retry)
    return len(due)


async def _try(work: UnitOfWork, mail: Any, now: datetime, smtp: Smtp, retry: RetryPolicy) -> None:
    attempts = mail.attempts + 1
    try:
        await smtp.send(mail)
    except SEND_ERRORS as error:
        await _failed_try(work, mail, now, attempts, retry, f"{type(error).__name__}: {error}")
        return
    await repository.update_mail(
        work.session, mail.id, status="sent", attempts=attempts, sent_at=now, last_error=None
    )
    data = NotificationDeliveredData(
        notification_id=mail.id,
        channel=NotificationChannel.EMAIL,
        kind=mail.kind,
        recipient=mail.recipient,
    )
    work.publish(NotificationDelivered(**_envelope(work, mail, now), data=data))


async def _failed_try(
    work: UnitOfWork, mail: Any, now: datetime, attempts: int, retry: RetryPolicy, error: str
) -> None:
    delay = retry.next_delay(attempts)
    if delay is not None:
        await repository.update_mail(
            work.session,
            mail.id,
            attempts=attempts,
            next_attempt_at=now + delay,
            last_error=error[:2000],
        )
        return
    await repository.update_mail(
        work.session, mail.id, status="failed", attempts=attempts, last_error=error[:2000]
    )
    data = NotificationFailedData(
        notification_id=mail.id,
        channel=NotificationChannel.EMAIL,
        kind=mail.kind,
        recipient=mail.recipient,
        error=error[:2000],
        attempts=attempts,
    )
    work.publish(NotificationFailed(**_envelope(work, mail, now), data=data))


def _envelope(work: UnitOfWork, mail: Any, now: datetime) -> dict[str, Any]:
    return {
        "occurred_at": now,
        "producer": work.producer,
        "correlation_id": uuid.uuid4(),
        "actor": SYSTEM_ACTOR,
        "order_id": mail.order_id,
    }
