"""Settings of the audit service (environment prefix ``AUDIT_``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.audit.signing import Signer, load_private_key
from services.kit.settings import ServiceSettings

#: The Ed25519 seed (hex) the local stack and the tests sign with; refused in production.
LOCAL_SIGNING_KEY = "6c6f63616c2d6f6e6c792d61756469742d7369676e696e672d6b65792d303031"


class AuditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore")

    service_name: str = "audit"
    http_port: int = 8004
    database_url: str = "postgresql+asyncpg://app:app@127.0.0.1:55432/audit"
    #: The Ed25519 private key that signs checkpoints and staff entries: 64 hex digits of its
    #: seed, or PEM. Never stored in the database (whoever writes it could sign otherwise).
    signing_key: SecretStr = SecretStr(LOCAL_SIGNING_KEY)
    #: A file holding the key instead (wins over ``signing_key``).
    signing_key_file: Path | None = None
    #: How often the journal commits to a new signed checkpoint when it has new entries.
    checkpoint_interval: timedelta = timedelta(minutes=1)

    @model_validator(mode="after")
    def _refuse_local_key_in_production(self) -> AuditSettings:
        local = self.signing_key_file is None
        local = local and self.signing_key.get_secret_value() == LOCAL_SIGNING_KEY
        if self.environment == "production" and local:
            raise ValueError(
                "AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE must be set in production"
            )
        return self

    def signer(self) -> Signer:
        text = (
            self.signing_key_file.read_text()
            if self.signing_key_file is not None
            else self.signing_key.get_secret_value()
        )
        return Signer(load_private_key(text))
