"""The audit service's Ed25519 key: what it signs, and how anyone checks a signature with the
public key alone.

The private key comes from settings or a key file, never from the database: whoever can write
the database can then still not sign. Every signed statement is canonical JSON with a
``purpose``, so a signature over a checkpoint can never pass for one over a staff entry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from services.audit.domain import canonical

#: The name of this journal in every signed statement.
LOG_NAME = "order-platform/audit-journal"
CHECKPOINT = "checkpoint"
STAFF_ENTRY = "staff-entry"


def statement(purpose: str, fields: dict[str, Any]) -> bytes:
    """The bytes signed: canonical JSON of the fields, the log's name and the purpose."""
    return canonical({**fields, "log": LOG_NAME, "purpose": purpose})


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    return hashlib.sha256(raw_public(public_key)).hexdigest()[:16]


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key from PEM or from the 64 hex digits of its raw bytes."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))


def load_private_key(text: str) -> Ed25519PrivateKey:
    """A private key from PEM (PKCS#8) or from the 64 hex digits of its 32-byte seed."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return key
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))


def valid(public_key: Ed25519PublicKey, signature_hex: str | None, signed: bytes) -> bool:
    """Whether ``signature_hex`` is the key's signature over ``signed``."""
    if not signature_hex:
        return False
    try:
        public_key.verify(bytes.fromhex(signature_hex), signed)
    except (InvalidSignature, ValueError):
        return False
    return True


def staff_statement(entry_hash: str) -> bytes:
    """What a staff entry's signature covers: its chain hash, which commits to its content
    and to the entry before it."""
    return statement(STAFF_ENTRY, {"hash": entry_hash})


@dataclass(frozen=True)
class Signer:
    """The service's key pair."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, signed: bytes) -> str:
        return self.private_key.sign(signed).hex()

    def sign_staff_entry(self, entry_hash: str) -> str:
        return self.sign(staff_statement(entry_hash))
