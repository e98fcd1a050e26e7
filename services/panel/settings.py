"""Settings of the panel (environment prefix ``PANEL_``, plus the shared ``ENVIRONMENT`` and
``JWT_*`` variables)."""

from __future__ import annotations

import secrets

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kit.settings import LOCAL_JWT_SECRET


class LocalPerson(BaseModel):
    """Someone the local sign-in page offers: the token the panel mints names them."""

    sub: str
    name: str
    role: str
    email: str


LOCAL_PEOPLE = (
    LocalPerson(sub="c-ada", name="Ada Lovelace", role="customer", email="ada@example.com"),
    LocalPerson(sub="c-bob", name="Bob", role="customer", email="bob@example.com"),
    LocalPerson(sub="s-grace", name="Grace", role="staff", email="grace@example.com"),
)


class PanelSettings(BaseSettings):
    """Where the services answer, how sessions are kept, and who may sign in locally."""

    model_config = SettingsConfigDict(env_prefix="PANEL_", extra="ignore")

    environment: str = Field(default="local", validation_alias="ENVIRONMENT")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    orders_url: str = "http://127.0.0.1:8001"
    billing_url: str = "http://127.0.0.1:8002"
    notifier_url: str = "http://127.0.0.1:8003"
    audit_url: str = "http://127.0.0.1:8004"
    #: Signs the session cookie. A fresh one per start locally (sessions end on restart).
    session_secret: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    session_max_age_seconds: int = 8 * 3600
    #: Rows per page of the Orders tab.
    orders_page_size: int = Field(default=20, ge=1, le=200)
    jwt_secret: SecretStr = Field(
        default=SecretStr(LOCAL_JWT_SECRET), validation_alias="JWT_SECRET"
    )
    jwt_audience: str = Field(default="order-platform", validation_alias="JWT_AUDIENCE")
    #: The identity provider for production sign-in (OpenID Connect discovery document).
    oidc_metadata_url: str | None = None
    oidc_client_id: str = "order-panel"
    oidc_client_secret: SecretStr = SecretStr("")
    #: The claim of the ID token that says ``staff`` (anything else is a customer).
    oidc_role_claim: str = "role"
    local_people: tuple[LocalPerson, ...] = LOCAL_PEOPLE
    log_json: bool = Field(default=True, validation_alias="LOG_JSON")

    @property
    def is_local(self) -> bool:
        return self.environment != "production"

    @property
    def secure_cookies(self) -> bool:
        """``Secure`` cookies everywhere but on the developer's own machine (plain HTTP)."""
        return self.environment not in {"local", "test"}

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> PanelSettings:
        if self.environment == "production":
            if "session_secret" not in self.model_fields_set:
                raise ValueError("PANEL_SESSION_SECRET must be set in production")
            if self.jwt_secret.get_secret_value() == LOCAL_JWT_SECRET:
                raise ValueError("JWT_SECRET must be set in production")
        return self
