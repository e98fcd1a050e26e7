"""Settings of the notifier service (environment prefix ``NOTIFIER_``)."""

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


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

    #: Base of the customer panel that banner and mail links lead to.
    panel_url: str = "https://panel.hosting.example"
