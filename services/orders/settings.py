"""Settings of the orders service (environment prefix ``ORDERS_``)."""

from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore")

    service_name: str = "orders"
    http_port: int = 8001
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/orders"
