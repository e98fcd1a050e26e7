"""Settings of the notifier service (environment prefix ``NOTIFIER_``)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr

from pydantic import Field, FilePath, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings
from services.notifier.domain import NoticeKind, Placement
from services.notifier.mailer import SmtpSecurity
from services.notifier.message import DkimKey, Identity, domain_of


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8003
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/notifier"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 50025
    smtp_timeout: timedelta = timedelta(seconds=10)
    #: ``starttls`` (port 587) or ``tls`` (port 465) for a real mail server; ``none`` only
    #: for a relay on the same host.
    smtp_security: SmtpSecurity = SmtpSecurity.NONE
    #: The login at the mail server; both or neither, and never over ``none``.
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    #: The CA certificate file the mail server's certificate must chain to (the system's
    #: trusted CAs when unset).
    smtp_ca_file: FilePath | None = None
    #: The sender of every mail (``From``, and the envelope sender that bounces go to).
    mail_from: str = "Hosting <noreply@hosting.example>"
    #: Where a customer's reply goes, since From is a no-reply address; none when empty.
    mail_reply_to: str | None = "Hosting Support <support@hosting.example>"
    #: The domain of every ``Message-ID``; From's domain when unset.
    mail_message_id_domain: str | None = None
    #: DKIM signing for From's domain: the selector (the public key is published in DNS as
    #: ``<selector>._domainkey.<domain>``) and the PEM private key file; both or neither.
    mail_dkim_selector: str | None = None
    mail_dkim_key_file: FilePath | None = None
    #: How often the sender looks for mail that is due.
    mail_poll_interval: timedelta = timedelta(seconds=2)
    #: Tries per mail before it is recorded as failed; the waits double from the first.
    mail_max_attempts: int = Field(default=6, ge=1)
    mail_retry_first_delay: timedelta = timedelta(minutes=1)
    mail_retry_max_delay: timedelta = timedelta(hours=1)

    #: Days before paid-until on which a renewal reminder is sent.
    reminder_offsets_days: tuple[int, ...] = (14, 7, 3, 1)
    reminder_interval: timedelta = timedelta(minutes=10)

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

    @model_validator(mode="after")
    def _check_sender(self) -> NotifierSettings:
        if "@" not in parseaddr(self.mail_from)[1]:
            raise ValueError(f"NOTIFIER_MAIL_FROM is not an address: {self.mail_from!r}")
        if (self.mail_dkim_selector is None) != (self.mail_dkim_key_file is None):
            raise ValueError("DKIM needs both NOTIFIER_MAIL_DKIM_SELECTOR and _KEY_FILE")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("an SMTP login needs both NOTIFIER_SMTP_USERNAME and _PASSWORD")
        if self.smtp_username is not None and self.smtp_security is SmtpSecurity.NONE:
            raise ValueError("NOTIFIER_SMTP_USERNAME needs NOTIFIER_SMTP_SECURITY starttls or tls")
        if self.environment == "production" and domain_of(self.mail_from).endswith(".example"):
            raise ValueError("NOTIFIER_MAIL_FROM must be the provider's address in production")
        return self

    def mail_identity(self) -> Identity:
        """The sender identity of every mail, with its DKIM key read and checked."""
        domain = domain_of(self.mail_from)
        key = None
        if self.mail_dkim_selector and self.mail_dkim_key_file:
            key = DkimKey.load(domain, self.mail_dkim_selector, self.mail_dkim_key_file)
        return Identity(
            sender=self.mail_from,
            reply_to=self.mail_reply_to or None,
            message_id_domain=self.mail_message_id_domain or domain,
            dkim=key,
        )
