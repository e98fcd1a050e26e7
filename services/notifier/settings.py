"""Settings of the notifier service (environment prefix ``NOTIFIER_``)."""

from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8003
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/notifier"
