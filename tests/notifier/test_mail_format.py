"""Every kind of mail in every language, sent through the notifier's SMTP client to the local
SMTP server and read back from its file with a strict parser: the headers RFC 5322 and
automated mail need, in the configured sender identity; UTF-8 parts, one text and one HTML
alternative; HTML the Nu HTML Checker accepts; a DKIM signature dkimpy's verifier accepts."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import strict
from pathlib import Path

import dkim
import pytest
from pydantic import ValidationError

from services.notifier.domain import NoticeKind
from services.notifier.mailer import Smtp
from services.notifier.render_samples import staff_samples
from services.notifier.settings import NotifierSettings
from tests.notifier.conftest import Mailbox
from tests.notifier.mails import (
    LANGUAGES,
    RECORDED_AT,
    DkimKeyPair,
    Recorded,
    dkim_key_pair,
    html_errors,
    recorded_mails,
)

SELECTOR = "notify2025"
SENDER = {
    "mail_from": "Hosting Ltd <noreply@mail.hosting.test>",
    "mail_reply_to": "Hosting Support <support@hosting.test>",
}
#: The headers every mail must carry exactly once.
REQUIRED = (
    "Date",
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Message-ID",
    "MIME-Version",
    "Auto-Submitted",
    "Content-Language",
    "DKIM-Signature",
)
KINDS = [(language, kind.value) for language in LANGUAGES for kind in NoticeKind] + [
    ("en", kind) for kind, _ in staff_samples()
]


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> DkimKeyPair:
    return dkim_key_pair(tmp_path_factory.mktemp("dkim"))


def smtp_of(settings: NotifierSettings, mailbox: Mailbox) -> Smtp:
    """The SMTP client the notifier's send job builds from its settings."""
    return Smtp("127.0.0.1", mailbox.port, settings.mail_identity(), timedelta(seconds=10))


async def send(smtp: Smtp, mailbox: Mailbox, mail: Recorded) -> bytes:
    """Send one mail and return the bytes the SMTP server kept of it."""
    before = set(mailbox.folder.glob("*.eml"))
    await smtp.send(mail)
    [arrived] = set(mailbox.folder.glob("*.eml")) - before
    return arrived.read_bytes()


@pytest.fixture(scope="module")
async def received(
    mailbox: Mailbox, key_pair: DkimKeyPair
) -> dict[tuple[str, str], tuple[Recorded, bytes]]:
    """Every kind in every language as received, signed, by (language, kind)."""
    settings = NotifierSettings(
        **SENDER, mail_dkim_selector=SELECTOR, mail_dkim_key_file=key_pair.key_file
    )
    smtp = smtp_of(settings, mailbox)
    found = {}
    for language in LANGUAGES:
        for mail in recorded_mails(language, recipient=f"anna.{language}@example.com"):
            found[language, mail.kind] = (mail, await send(smtp, mailbox, mail))
    return found


def parse(raw: bytes) -> EmailMessage:
    """Parse as strictly as the standard library can: any defect it notices raises."""
    message = BytesParser(policy=strict).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        assert part.defects == [], part.defects
        for name, value in part.items():
            assert list(value.defects) == [], (name, value.defects)
    return message


@pytest.mark.parametrize(("language", "kind"), KINDS)
def test_each_mail_carries_the_headers_of_its_sender_and_language(
    received: dict[tuple[str, str], tuple[Recorded, bytes]], language: str, kind: str
) -> None:
    mail, raw = received[language, kind]
    message = parse(raw)
    missing = [name for name in REQUIRED if len(message.get_all(name) or []) != 1]
    assert missing == [], f"not exactly once: {missing}"
    assert message["Date"].datetime == RECORDED_AT, "the moment the mail was recorded"
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Hosting Ltd", "noreply@mail.hosting.test")
    assert message["Reply-To"].addresses[0].addr_spec == "support@hosting.test"
    assert message["To"].addresses[0].addr_spec == f"anna.{language}@example.com"
    assert message["Message-ID"] == f"<{mail.id}@mail.hosting.test>"
    # Python folds a long subject right after "Subject:", and its parser keeps the space that
    # starts the next line; unfolded as RFC 5322 says, both read "Subject: <subject>".
    assert message["Subject"].lstrip() == mail.subject
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == language


@pytest.mark.parametrize(("language", "kind"), KINDS)
def test_each_mail_is_a_text_and_an_html_alternative_in_utf8(
    received: dict[tuple[str, str], tuple[Recorded, bytes]], language: str, kind: str
) -> None:
    mail, raw = received[language, kind]
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert [text.get_content_type(), html.get_content_type()] == ["text/plain", "text/html"]
    assert [text.get_content_charset(), html.get_content_charset()] == ["utf-8", "utf-8"]
    assert [list(text.iter_parts()), list(html.iter_parts())] == [[], []]
    assert lines(text.get_content()) == mail.text_body
    assert lines(html.get_content()) == mail.html_body
    assert f'<html lang="{language}">' in html.get_content()


def lines(content: str) -> str:
    """A part's text with the line ends a reader shows (the wire has CRLF)."""
    return content.replace("\r\n", "\n").rstrip("\n")


def test_the_html_of_every_mail_passes_the_nu_html_checker(
    received: dict[tuple[str, str], tuple[Recorded, bytes]], tmp_path: Path
) -> None:
    files = []
    for (language, kind), (_, raw) in received.items():
        html = parse(raw).get_body(("html",))
        assert html is not None
        files.append(tmp_path / f"{language}-{kind}.html")
        files[-1].write_text(html.get_content(), encoding="utf-8")
    assert len(files) == len(KINDS)
    assert html_errors(files) == []


def test_the_nu_html_checker_catches_broken_html(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text('<!doctype html><html lang="en"><title>x</title><p><div>x</p></html>')
    assert any("error" in line for line in html_errors([broken]))


def test_every_mail_is_signed_for_the_senders_domain_and_verifies(
    received: dict[tuple[str, str], tuple[Recorded, bytes]], key_pair: DkimKeyPair
) -> None:
    dns = key_pair.dns(f"{SELECTOR}._domainkey.mail.hosting.test".encode())
    for (language, kind), (_, raw) in received.items():
        signature = str(parse(raw)["DKIM-Signature"])
        assert "d=mail.hosting.test;" in signature
        assert f"s={SELECTOR};" in signature
        assert dkim.verify(raw, dnsfunc=dns), (language, kind)
    _, raw = received["en", "acceptance"]
    redirected = raw.replace(b"anna.en@example.com", b"mallory@example.com")
    assert not dkim.verify(redirected, dnsfunc=dns), "a changed recipient breaks the signature"


def test_a_signature_by_another_key_does_not_verify(
    received: dict[tuple[str, str], tuple[Recorded, bytes]], tmp_path: Path
) -> None:
    other = dkim_key_pair(tmp_path)
    _, raw = received["de", "incident"]
    assert not dkim.verify(
        raw, dnsfunc=other.dns(f"{SELECTOR}._domainkey.mail.hosting.test".encode())
    )


async def test_a_resent_mail_is_the_same_message_and_unsigned_without_a_key(
    mailbox: Mailbox,
) -> None:
    smtp = smtp_of(NotifierSettings(mail_from="noreply@hosting.test"), mailbox)
    mail = recorded_mails("pl")[0]
    first, again = [parse(await send(smtp, mailbox, mail)) for _ in range(2)]
    assert first["Message-ID"] == again["Message-ID"] == f"<{mail.id}@hosting.test>"
    assert first["Date"].datetime == again["Date"].datetime == RECORDED_AT
    assert first["DKIM-Signature"] is None


def test_settings_refuse_half_a_dkim_configuration_and_an_example_sender_in_production(
    key_pair: DkimKeyPair,
) -> None:
    with pytest.raises(ValidationError, match="DKIM needs both"):
        NotifierSettings(mail_dkim_selector=SELECTOR)
    with pytest.raises(ValidationError, match="DKIM needs both"):
        NotifierSettings(mail_dkim_key_file=key_pair.key_file)
    with pytest.raises(ValidationError, match="not an address"):
        NotifierSettings(mail_from="Hosting")
    with pytest.raises(ValidationError, match="provider's address in production"):
        NotifierSettings(ENVIRONMENT="production", JWT_SECRET="s" * 40)
