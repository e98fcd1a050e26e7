"""Mail to a real mail server that requires STARTTLS (or TLS from the first byte) and a login,
with a certificate the test makes: the mail arrives over TLS from the logged-in sender; a wrong
password, a certificate the notifier does not trust or a server without STARTTLS is a clear
error and a 503 ``/readyz``, and no mail goes out in plaintext."""

from __future__ import annotations

import email
import email.policy
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from deploy.smtp import MailFolder
from services.notifier.mailer import Smtp, SmtpSecurity
from services.notifier.message import Identity
from tests.apps import running_service
from tests.stack import Servers
from tests.tls import Authority, free_port

LOGIN, PASSWORD = "mailer@hosting.example", "s3cret-for-tests"


class RecordingFolder(MailFolder):
    """Keeps each mail, and how its session was protected and who had logged in."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.sessions: list[tuple[bool, bytes | None]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        login = session.auth_data.login if session.authenticated else None
        # The transport, not session.ssl: aiosmtpd sets that after STARTTLS only.
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append((encrypted, login))
        return await super().handle_DATA(server, session, envelope)


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        LOGIN.encode(),
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd then answers 535 itself.
    return AuthResult(success=good, handled=False, auth_data=data if good else None)


@dataclass
class MailServers:
    starttls: int
    implicit: int
    plaintext: int
    trusted_ca: Path
    other_ca: Path
    received: RecordingFolder
    folder: Path
    controllers: list[Controller] = field(default_factory=list)


@pytest.fixture(scope="module")
def mail_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailServers]:
    folder = tmp_path_factory.mktemp("smtp-tls")
    authority = Authority.create("mail-ca")
    certificate = authority.issue()
    (folder / "server.pem").write_bytes(certificate.cert_pem)
    (folder / "server.key").write_bytes(certificate.key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    received = RecordingFolder(folder / "mail")
    servers = MailServers(
        free_port(),
        free_port(),
        free_port(),
        authority.write(folder),
        Authority.create("other-ca").write(folder),
        received,
        folder,
    )
    login = {"auth_required": True, "authenticator": _authenticate}
    servers.controllers = [
        Controller(
            received,
            hostname="127.0.0.1",
            port=servers.starttls,
            tls_context=context,
            require_starttls=True,
            **login,
        ),
        # Implicit TLS: the whole session is encrypted, so AUTH needs no STARTTLS first.
        Controller(
            received,
            hostname="127.0.0.1",
            port=servers.implicit,
            ssl_context=context,
            auth_require_tls=False,
            **login,
        ),
        Controller(received, hostname="127.0.0.1", port=servers.plaintext),
    ]
    for controller in servers.controllers:
        controller.start()
    yield servers
    for controller in servers.controllers:
        controller.stop()


@dataclass
class Mail:
    recipient: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    kind: str = "order_confirmed"
    subject: str = "Your order"
    language: str = "en"
    text_body: str = "Thank you."
    html_body: str = "<p>Thank you.</p>"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _smtp(servers: MailServers, security: SmtpSecurity, **changes: Any) -> Smtp:
    smtp = Smtp(
        "127.0.0.1",
        servers.starttls if security is SmtpSecurity.STARTTLS else servers.implicit,
        Identity("Hosting <noreply@hosting.example>", None, "hosting.example", None),
        timedelta(seconds=10),
        security=security,
        username=LOGIN,
        password=PASSWORD,
        ca_file=servers.trusted_ca,
    )
    return replace(smtp, **changes)


def _received_by(servers: MailServers, recipient: str) -> list[email.message.EmailMessage]:
    found = []
    for path in servers.received.folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == recipient:
            found.append(message)
    return found  # type: ignore[return-value]


@pytest.mark.parametrize("security", [SmtpSecurity.STARTTLS, SmtpSecurity.TLS])
async def test_mail_goes_over_tls_after_login(
    mail_servers: MailServers, security: SmtpSecurity
) -> None:
    smtp = _smtp(mail_servers, security)
    recipient = f"{uuid.uuid4().hex[:8]}@customer.example"
    await smtp.send(Mail(recipient))
    await smtp.check()
    (mail,) = _received_by(mail_servers, recipient)
    assert mail["Subject"] == "Your order"
    assert mail_servers.received.sessions[-1] == (True, LOGIN.encode())


@pytest.mark.parametrize(
    ("changes", "error", "reason"),
    [
        ({"password": "wrong"}, aiosmtplib.SMTPAuthenticationError, "credentials invalid"),
        ({"ca_file": None}, ssl.SSLCertVerificationError, "certificate verify failed"),
        ({"port": "plaintext"}, aiosmtplib.SMTPException, "STARTTLS extension not supported"),
    ],
    ids=["wrong password", "untrusted certificate", "server without STARTTLS"],
)
async def test_a_refused_connection_sends_nothing_and_says_why(
    mail_servers: MailServers, changes: dict[str, Any], error: type[Exception], reason: str
) -> None:
    if changes.get("port") == "plaintext":
        changes["port"] = mail_servers.plaintext
    if "ca_file" in changes:
        changes["ca_file"] = mail_servers.other_ca
    smtp = _smtp(mail_servers, SmtpSecurity.STARTTLS, **changes)
    recipient = f"{uuid.uuid4().hex[:8]}@customer.example"
    with pytest.raises(error, match=reason):
        await smtp.send(Mail(recipient))
    with pytest.raises(error, match=reason):
        await smtp.check()
    assert _received_by(mail_servers, recipient) == []


async def test_an_unreachable_server_does_not_make_the_notifier_unready(
    mail_servers: MailServers,
) -> None:
    smtp = _smtp(mail_servers, SmtpSecurity.STARTTLS, port=free_port())
    await smtp.check()  # mail waits and is retried; the notifier's other work goes on


async def test_readyz_names_the_refused_login(
    mail_servers: MailServers, stack: Servers, unique: str
) -> None:
    settings = {
        "smtp_host": "127.0.0.1",
        "smtp_port": mail_servers.implicit,
        "smtp_security": "tls",
        "smtp_username": LOGIN,
        "smtp_ca_file": mail_servers.trusted_ca,
    }
    prefix = f"smtp{unique}."
    async with running_service(
        "notifier", stack, prefix=prefix, smtp_password=PASSWORD, **settings
    ) as good:
        ready = await good.http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["smtp"] == "ok"
        database = good.database_url.rsplit("/", 1)[1]
    async with running_service(
        "notifier", stack, prefix=prefix, database=database, smtp_password="wrong", **settings
    ) as refused:
        ready = await refused.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["smtp"] == (
        "SMTPAuthenticationError: (535, '5.7.8 Authentication credentials invalid')"
    )


def test_a_login_is_never_sent_in_plaintext() -> None:
    from services.notifier.settings import NotifierSettings

    with pytest.raises(ValueError, match="NOTIFIER_SMTP_SECURITY starttls or tls"):
        NotifierSettings(smtp_username=LOGIN, smtp_password=PASSWORD)
