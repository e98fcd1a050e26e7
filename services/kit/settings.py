"""The typed settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, FilePath, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kit.consumer import MAX_MESSAGE_BYTES
from services.kit.kafka import EVENT_PARTITIONS, KafkaConnection, SaslMechanism, SecurityProtocol

#: The only JWT secret the local stack and the tests may use; refused in production.
LOCAL_JWT_SECRET = "local-development-secret-not-for-production-use"


class ServiceSettings(BaseSettings):
    """Settings common to every service. Shared values come from unprefixed variables
    (``KAFKA_BOOTSTRAP_SERVERS``, ``JWT_SECRET``, ``CLOCK_OFFSET_SECONDS``, ``ENVIRONMENT``);
    a service's own ones (``ORDERS_DATABASE_URL``) from its prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    environment: str = Field(default="local", validation_alias="ENVIRONMENT")
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/app"
    #: Where migrations run, when the service itself connects as a role that may not change
    #: the schema (the audit service's journal writer); the service's own URL otherwise.
    migration_database_url: str | None = None
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:59092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    #: Prepended to every topic name: keeps environments, or test runs, apart on one cluster.
    kafka_topic_prefix: str = Field(default="", validation_alias="KAFKA_TOPIC_PREFIX")
    #: ``SASL_SSL`` (with a mechanism and a login) or ``SSL`` for a managed cluster.
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL"
    )
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        default=None, validation_alias="KAFKA_SASL_MECHANISM"
    )
    kafka_sasl_username: str | None = Field(default=None, validation_alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(
        default=None, validation_alias="KAFKA_SASL_PASSWORD"
    )
    #: The CA certificate the brokers' certificates must chain to (the system's CAs if unset).
    kafka_ssl_ca_file: FilePath | None = Field(default=None, validation_alias="KAFKA_SSL_CA_FILE")
    #: Of the event topics a service creates when they are missing (existing ones are kept).
    kafka_topic_partitions: int = Field(
        default=EVENT_PARTITIONS, gt=0, validation_alias="KAFKA_TOPIC_PARTITIONS"
    )
    kafka_topic_replication_factor: int = Field(
        default=1, gt=0, validation_alias="KAFKA_TOPIC_REPLICATION_FACTOR"
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    jwt_secret: SecretStr = Field(
        default=SecretStr(LOCAL_JWT_SECRET), validation_alias="JWT_SECRET"
    )
    jwt_jwks_url: str | None = Field(default=None, validation_alias="JWT_JWKS_URL")
    jwt_audience: str = Field(default="order-platform", validation_alias="JWT_AUDIENCE")
    clock_offset_seconds: float = Field(default=0.0, validation_alias="CLOCK_OFFSET_SECONDS")
    outbox_poll_interval: timedelta = timedelta(seconds=2)
    #: How long the woken outbox relay gathers commits before it claims a batch.
    outbox_linger: timedelta = timedelta(milliseconds=10)
    #: The largest event a consumer parses; a larger one goes to the DLQ unparsed.
    consumer_max_message_bytes: int = Field(default=MAX_MESSAGE_BYTES, gt=0)
    #: How long an inbound event that cannot be applied yet is parked before it goes to the
    #: DLQ (``services.kit.parking``), and how often that is checked.
    parked_max_age: timedelta = timedelta(hours=1)
    parked_check_interval: timedelta = timedelta(minutes=1)
    #: Tests switch the background jobs off and run each pass themselves after moving the clock.
    run_jobs: bool = True
    log_json: bool = Field(default=True, validation_alias="LOG_JSON")
    #: The OpenTelemetry collector's base URL (``http://collector:4318``), the standard
    #: variable: traces go there over OTLP/HTTP. Unset, nothing is traced.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )

    def kafka(self) -> KafkaConnection:
        """How every Kafka client of this process connects."""
        password = self.kafka_sasl_password
        return KafkaConnection(
            self.kafka_bootstrap_servers,
            self.kafka_security_protocol,
            self.kafka_sasl_mechanism,
            self.kafka_sasl_username,
            password.get_secret_value() if password else None,
            self.kafka_ssl_ca_file,
        )

    @model_validator(mode="after")
    def _check_kafka_login(self) -> ServiceSettings:
        login = (self.kafka_sasl_mechanism, self.kafka_sasl_username, self.kafka_sasl_password)
        if self.kafka_security_protocol == "SASL_SSL" and None in login:
            raise ValueError(
                "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_MECHANISM, "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        if self.kafka_security_protocol != "SASL_SSL" and login != (None, None, None):
            raise ValueError("a Kafka login is sent only over KAFKA_SECURITY_PROTOCOL=SASL_SSL")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> ServiceSettings:
        if self.environment == "production":
            if self.jwt_jwks_url is None and self.jwt_secret.get_secret_value() == LOCAL_JWT_SECRET:
                raise ValueError("JWT_SECRET must be set in production")
            if self.clock_offset_seconds:
                raise ValueError("CLOCK_OFFSET_SECONDS is for local use; production uses real time")
        return self
