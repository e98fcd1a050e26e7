"""Settings of the audit service (environment prefix ``AUDIT_``)."""

from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore")

    service_name: str = "audit"
    http_port: int = 8004
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/audit"
