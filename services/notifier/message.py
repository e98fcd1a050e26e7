"""A recorded mail as it goes on the wire: the MIME message with the headers mail servers and
spam filters expect, in the sender identity of the settings, DKIM-signed when a key is set.

Everything that identifies a message (``Date``, ``Message-ID``) comes from the recorded row,
never from the moment of sending, so a mail sent again after a crash is the same message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from uuid import UUID

import dkim
from dkim.crypto import parse_pem_private_key


class RecordedMail(Protocol):
    """What a mail intent holds (a row of ``mails``)."""

    id: UUID
    kind: str
    recipient: str
    subject: str
    language: str
    text_body: str
    html_body: str
    created_at: datetime


@dataclass(frozen=True)
class DkimKey:
    """A DKIM private key, published under ``<selector>._domainkey.<domain>``."""

    domain: str
    selector: str
    private_key: bytes

    @classmethod
    def load(cls, domain: str, selector: str, key_file: Path) -> DkimKey:
        """Read and check the PEM key, so a bad key stops the service at start, not each mail."""
        pem = key_file.read_bytes()
        parse_pem_private_key(pem)  # raises dkim.crypto.UnparsableKeyError
        return cls(domain, selector, pem)

    def sign(self, raw: bytes) -> bytes:
        """The message with its ``DKIM-Signature`` header in front."""
        signature: bytes = dkim.sign(
            raw, self.selector.encode(), self.domain.encode(), self.private_key
        )
        return signature + raw


@dataclass(frozen=True)
class Identity:
    """Who the mails come from: ``From``, ``Reply-To``, the Message-ID domain, the DKIM key."""

    sender: str
    reply_to: str | None
    message_id_domain: str
    dkim: DkimKey | None = None

    @property
    def address(self) -> str:
        """The sender's bare address: the SMTP envelope sender, where bounces go."""
        return parseaddr(self.sender)[1]


def domain_of(address: str) -> str:
    """The domain of an address such as ``Hosting <noreply@hosting.example>``."""
    return parseaddr(address)[1].rpartition("@")[2].lower()


def compose(mail: RecordedMail, identity: Identity) -> EmailMessage:
    """The MIME message of a recorded mail: a text part and an HTML alternative, UTF-8."""
    message = EmailMessage()
    # RFC 5322 requires Date; the recording time keeps it the same on a resend.
    message["Date"] = format_datetime(mail.created_at)
    message["From"] = identity.sender
    if identity.reply_to:
        message["Reply-To"] = identity.reply_to
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{mail.id}@{identity.message_id_domain}>"
    # RFC 3834: robots (out-of-office, vacation) must not answer automated mail.
    message["Auto-Submitted"] = "auto-generated"
    # Exchange and Outlook ignore Auto-Submitted and read this instead.
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Notification-Kind"] = mail.kind
    message.set_content(mail.text_body, charset="utf-8")
    message.add_alternative(mail.html_body, subtype="html", charset="utf-8")
    # Set after the parts: turning the message multipart moves Content-* headers into its
    # first part, and the language is the whole message's.
    message["Content-Language"] = mail.language
    return message


def wire_bytes(mail: RecordedMail, identity: Identity) -> bytes:
    """The bytes handed to the SMTP server (CRLF line ends), signed when there is a key:
    the signature covers exactly these bytes, so nothing may re-encode them afterwards."""
    raw = compose(mail, identity).as_bytes(policy=SMTP)
    return identity.dkim.sign(raw) if identity.dkim else raw
