"""Settings of the billing service (environment prefix ``BILLING_``)."""

from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    service_name: str = "billing"
    http_port: int = 8002
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/billing"
