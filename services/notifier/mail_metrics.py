"""What the mail job exports: mails waiting, sent and given up on, and failed tries.

The counters move as the job sends; the waiting count is one indexed query when Prometheus
scrapes (``Runtime.on_scrape``), never per mail or per request."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kit.metrics import Refresh
from services.notifier import repository


class MailMetrics:
    """Counters of the sending job and the gauge of mails waiting."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.queued = Gauge(
            "notifier_mails_queued",
            "Mails recorded and not sent yet (waiting for their first try or a retry)",
            registry=registry,
        )
        self.sent = Counter("notifier_mails_sent", "Mails the server accepted", registry=registry)
        self.failed_tries = Counter(
            "notifier_mail_tries_failed",
            "Tries the mail server refused or did not answer (the mail is retried)",
            registry=registry,
        )
        self.failed = Counter(
            "notifier_mails_failed",
            "Mails given up on after the last try (notification.failed)",
            registry=registry,
        )

    def refresher(self, sessions: async_sessionmaker[AsyncSession]) -> Refresh:
        async def refresh() -> None:
            async with sessions() as session:
                self.queued.set(await repository.pending_mails(session))

        return refresh
