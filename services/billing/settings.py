"""Settings of the billing service (environment prefix ``BILLING_``)."""

from datetime import timedelta

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from services.billing.domain import DunningPolicy
from services.kit.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    """Billing's settings; the dunning policy is configuration (``BILLING_SUSPEND_AFTER_DAYS``
    and friends), read once into a :class:`DunningPolicy`."""

    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    service_name: str = "billing"
    http_port: int = 8002
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/billing"

    #: Days a new order's first invoice (or a requested renewal's) is due after issue.
    payment_terms_days: int = 14
    #: Days after the due date an unpaid invoice is overdue and the customer reminded.
    overdue_after_days: int = 1
    #: Days after the due date the invoice's orders are suspended (unless exempt).
    suspend_after_days: int = 7
    #: Days after the suspension the orders are terminated.
    terminate_after_days: int = 14
    #: Days before paid-until a renewal invoice is issued automatically.
    renewal_lead_days: int = 14
    #: Days from the due date on which an unpaid invoice's customer is reminded: negative
    #: before it, positive after it (``BILLING_REMINDER_OFFSETS_DAYS='[-3, 3]'``).
    reminder_offsets_days: tuple[int, ...] = (-3, 3)
    #: How often the renewal, dunning and reminder jobs look for due work.
    jobs_interval: timedelta = timedelta(minutes=1)

    @model_validator(mode="after")
    def _policy_is_coherent(self) -> "BillingSettings":
        self.dunning_policy()  # refuses, at start-up, day counts that contradict each other
        return self

    def dunning_policy(self) -> DunningPolicy:
        return DunningPolicy(
            payment_terms_days=self.payment_terms_days,
            overdue_after_days=self.overdue_after_days,
            suspend_after_days=self.suspend_after_days,
            terminate_after_days=self.terminate_after_days,
            renewal_lead_days=self.renewal_lead_days,
            reminder_offsets_days=self.reminder_offsets_days,
        )
