"""Settings of the notifier service (environment prefix ``NOTIFIER_``)."""

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings
from services.notifier.domain import NoticeKind, Placement


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8003
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/notifier"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 50025
    smtp_timeout: timedelta = timedelta(seconds=10)
    mail_from: str = "Hosting <noreply@hosting.example>"
    #: How often the sender looks for mail that is due.
    mail_poll_interval: timedelta = timedelta(seconds=2)
    #: Tries per mail before it is recorded as failed; the waits double from the first.
    mail_max_attempts: int = Field(default=6, ge=1)
    mail_retry_first_delay: timedelta = timedelta(minutes=1)
    mail_retry_max_delay: timedelta = timedelta(hours=1)

    #: Days before paid-until on which a renewal reminder is sent.
    reminder_offsets_days: tuple[int, ...] = (14, 7, 3, 1)
    reminder_interval: timedelta = timedelta(minutes=10)

    #: How long an event about an order not yet known is kept before it goes to the DLQ.
    parked_max_age: timedelta = timedelta(hours=1)
    parked_check_interval: timedelta = timedelta(minutes=1)

    #: Where a kind of notice's banner is shown, for kinds kept to one page, e.g.
    #: ``{"renewal_reminder": "orders_tab"}``; every other kind reaches both pages.
    banner_placements: dict[NoticeKind, Placement] = Field(default_factory=dict)

    #: The staff queue's mailbox, told of every staff notice (a hold's reminder).
    staff_queue_address: str = "orders-desk@hosting.example"
    #: Staff mail is ``<staff subject>@<staff_mail_domain>``: a staff member's token subject
    #: is the local part of their work address.
    staff_mail_domain: str = "hosting.example"
    #: Base of the back office that staff notices lead to.
    back_office_url: str = "https://backoffice.hosting.example"

    #: Base of the customer panel that banner and mail links lead to.
    panel_url: str = "https://panel.hosting.example"
