"""Sending the recorded mails: after the commit that recorded them, by a job, so a mail is
never sent for a fact that was rolled back. A failed try waits with backoff (the mail server
being down delays mail, it loses none); after the last try the mail is recorded as failed.
Each outcome is published: ``notification.delivered`` or ``notification.failed``.

A pass holds its mails locked (``SKIP LOCKED``) and the job's advisory lock while it sends,
so two replicas never send the same mail. A process killed between the server's acceptance
and the commit sends that mail again on the next pass: the ``Message-ID`` stays the same,
so the receiving side can tell."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosmtplib
from opentelemetry.trace import SpanKind, Tracer

from contracts import SYSTEM_ACTOR, NotificationChannel, NotificationDelivered, NotificationFailed
from contracts.notifier import NotificationDeliveredData, NotificationFailedData
from services.kit.db import UnitOfWork
from services.kit.tracing import context_of
from services.notifier import repository
from services.notifier.domain import RetryPolicy
from services.notifier.mail_metrics import MailMetrics
from services.notifier.message import Identity, RecordedMail, wire_bytes

if TYPE_CHECKING:
    from services.notifier.settings import NotifierSettings

#: Errors that mean "this try failed": the server is down, refused or timed out.
SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


class SmtpSecurity(StrEnum):
    """How the connection to the mail server is protected."""

    #: Plaintext: a local relay only (no login is allowed over it).
    NONE = "none"
    #: Plaintext, upgraded with STARTTLS before anything else; a server that does not offer it
    #: is refused (port 587).
    STARTTLS = "starttls"
    #: TLS from the first byte (port 465).
    TLS = "tls"


@dataclass(frozen=True)
class Smtp:
    """Where mail goes, how the connection is protected, who logs in, who mail comes from."""

    host: str
    port: int
    identity: Identity
    timeout: timedelta
    security: SmtpSecurity = SmtpSecurity.NONE
    username: str | None = None
    password: str | None = None
    #: The CA certificates the server's certificate must chain to; the system's when None.
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> Smtp:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_identity(),
            settings.smtp_timeout,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            ca_file=settings.smtp_ca_file,
        )

    def _connection(self) -> dict[str, Any]:
        return {
            "hostname": self.host,
            "port": self.port,
            "timeout": self.timeout.total_seconds(),
            "use_tls": self.security is SmtpSecurity.TLS,
            # True, not None: None would go on in plaintext when the server offers no STARTTLS.
            "start_tls": self.security is SmtpSecurity.STARTTLS,
            "cert_bundle": str(self.ca_file) if self.ca_file else None,
            "username": self.username,
            "password": self.password,
        }

    async def send(self, mail: RecordedMail) -> None:
        await aiosmtplib.send(
            wire_bytes(mail, self.identity),
            sender=self.identity.address,
            recipients=[mail.recipient],
            **self._connection(),
        )

    async def check(self) -> None:
        """Readiness: the server accepts the connection, its TLS and the login as a send
        would. A server that cannot be reached passes: mail waits and is retried, and the
        notifier's other work goes on. A certificate or a login it refuses does not, since
        no retry will fix that."""
        options = self._connection() | {"timeout": min(self.timeout.total_seconds(), 1.5)}
        try:
            async with aiosmtplib.SMTP(**options):
                pass
        except SEND_ERRORS as error:
            if not _unreachable(error):
                raise


def _unreachable(error: Exception) -> bool:
    """Whether the server was down or slow, rather than refusing who we are."""
    if isinstance(error, ssl.SSLError) or isinstance(error.__cause__, ssl.SSLError):
        return False
    return isinstance(error, OSError | TimeoutError | aiosmtplib.SMTPServerDisconnected)


@dataclass(frozen=True)
class Sending:
    """How the mail job sends: the server, the retries, and what it reports (its counters;
    a span per mail when the process traces, the tracer being known only once the app is
    assembled, hence asked for at each pass)."""

    smtp: Smtp
    retry: RetryPolicy
    metrics: MailMetrics
    tracer: Callable[[], Tracer | None] = lambda: None

    async def send(self, mail: Any) -> None:
        tracer = self.tracer()
        if tracer is None:
            await self.smtp.send(mail)
            return
        with tracer.start_as_current_span(
            "smtp send",
            # A child of what queued the mail (an order's cancellation, say), in its trace.
            context=context_of(mail.trace_context),
            kind=SpanKind.CLIENT,
            attributes={
                "mail.id": str(mail.id),
                "mail.kind": mail.kind,
                "mail.attempt": mail.attempts + 1,
                "server.address": self.smtp.host,
                "server.port": self.smtp.port,
                **({"order.id": str(mail.order_id)} if mail.order_id else {}),
            },
        ):
            await self.smtp.send(mail)


async def send_due_mails(work: UnitOfWork, now: datetime, *, sending: Sending, batch: int) -> int:
    """One pass: try every due mail once; returns how many were tried."""
    due = await repository.due_mails(work.session, now, batch)
    for mail in due:
        await _try(work, mail, now, sending)
    return len(due)


async def _try(work: UnitOfWork, mail: Any, now: datetime, sending: Sending) -> None:
    attempts = mail.attempts + 1
    try:
        await sending.send(mail)
    except SEND_ERRORS as error:
        sending.metrics.failed_tries.inc()
        reason = f"{type(error).__name__}: {error}"
        if await _failed_try(work, mail, now, attempts, sending.retry, reason):
            sending.metrics.failed.inc()
        return
    sending.metrics.sent.inc()
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
) -> bool:
    """Record a failed try; returns whether it was the last (the mail is given up on)."""
    delay = retry.next_delay(attempts)
    if delay is not None:
        await repository.update_mail(
            work.session,
            mail.id,
            attempts=attempts,
            next_attempt_at=now + delay,
            last_error=error[:2000],
        )
        return False
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
    return True


def _envelope(work: UnitOfWork, mail: Any, now: datetime) -> dict[str, Any]:
    return {
        "occurred_at": now,
        "producer": work.producer,
        "correlation_id": uuid.uuid4(),
        "actor": SYSTEM_ACTOR,
        "order_id": mail.order_id,
    }
