"""The local mail page, as ``make up`` runs it (``python -m deploy.smtp``, a real process):
mails the notifier's SMTP client sends show up in the list with recipient, subject and time,
and each opens rendered."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.kit.clock import FrozenClock
from services.notifier.mailer import Smtp
from services.notifier.settings import NotifierSettings
from tests.apps import ROOT
from tests.helpers import eventually
from tests.notifier import events
from tests.notifier.conftest import Mailbox, free_port, notifier_running
from tests.notifier.mails import Recorded, html_errors, recorded_mails
from tests.stack import Servers


@dataclass
class Sink:
    """``python -m deploy.smtp`` as the Procfile runs it, on ports of the test's own."""

    smtp_port: int
    http_port: int
    folder: Path
    process: subprocess.Popen[bytes]


@dataclass
class LocalMail:
    """The notifier's SMTP client and a browser's view of the page."""

    smtp: Smtp
    page: httpx.AsyncClient


@contextlib.contextmanager
def running_sink(folder: Path) -> Iterator[Sink]:
    """The local SMTP server with its mail page, as `make up` runs it."""
    smtp_port, http_port = free_port(), free_port()
    while http_port == smtp_port:
        http_port = free_port()
    command = [sys.executable, "-m", "deploy.smtp", "--port", str(smtp_port)]
    command += ["--http-port", str(http_port), "--folder", str(folder)]
    process = subprocess.Popen(command, cwd=ROOT)
    yield Sink(smtp_port, http_port, folder, process)
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    with running_sink(tmp_path_factory.mktemp("local-mail")) as found:
        yield found


@pytest.fixture(scope="module")
async def local_mail(sink: Sink) -> AsyncIterator[LocalMail]:
    identity = NotifierSettings().mail_identity()
    smtp = Smtp("127.0.0.1", sink.smtp_port, identity, timedelta(seconds=10))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sink.http_port}") as page:
        await until_it_answers(page)
        yield LocalMail(smtp, page)


async def until_it_answers(page: httpx.AsyncClient) -> None:
    async def answers() -> bool:
        try:
            return (await page.get("/")).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(answers, timeout=30)


@pytest.fixture(scope="module")
async def sent(local_mail: LocalMail) -> list[Recorded]:
    """A German mail, then a Polish one, as the notifier sends them."""
    mails = [
        recorded_mails("de", recipient="kunde@example.com")[1],
        recorded_mails("pl", recipient="klient@example.com")[1],
    ]
    for mail in mails:
        await local_mail.smtp.send(mail)
    return mails


def rows(page: str) -> list[str]:
    """The rows of the list, top to bottom."""
    return re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1], re.DOTALL)


def row_of(page: str, recipient: str) -> tuple[int, str]:
    """Where the one row of a recipient's mail is in the list, and the row."""
    [found] = [(n, row) for n, row in enumerate(rows(page)) if recipient in row]
    return found


async def test_the_list_shows_recipient_subject_and_time_newest_first(
    local_mail: LocalMail, sent: list[Recorded]
) -> None:
    response = await local_mail.page.get("/")
    assert response.headers["content-type"].startswith("text/html")
    german, polish = sent
    (newest, polish_row), (older, german_row) = (
        row_of(response.text, polish.recipient),
        row_of(response.text, german.recipient),
    )
    assert newest < older
    for row, mail in ((polish_row, polish), (german_row, german)):
        assert mail.subject in row
        assert "2025-03-01 09:30:15 UTC" in row, "the mail's Date"


async def test_a_mail_opens_with_its_headers_text_and_rendered_html(
    local_mail: LocalMail, sent: list[Recorded]
) -> None:
    polish = sent[1]
    listing = (await local_mail.page.get("/")).text
    [link] = re.findall(r'<a href="(/mail/[^"]+)">' + re.escape(polish.subject), listing)
    page = await local_mail.page.get(link)
    assert f"<h1>{polish.subject}</h1>" in page.text
    assert "Content-Language</th><td>pl</td>" in page.text
    assert "Dzień dobry Anna Nowak," in page.text, "the text part"
    [frame] = re.findall(r'<iframe sandbox src="([^"]+)"', page.text)
    rendered = await local_mail.page.get(frame)
    assert rendered.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in rendered.headers["content-security-policy"]
    assert "default-src 'none'" in rendered.headers["content-security-policy"]
    assert rendered.text.replace("\r\n", "\n").rstrip("\n") == polish.html_body
    raw = await local_mail.page.get(link + "/raw")
    assert raw.headers["content-type"] == "message/rfc822"
    assert b"Auto-Submitted: auto-generated" in raw.content


async def test_the_pages_pass_the_nu_html_checker(
    local_mail: LocalMail, sent: list[Recorded], tmp_path: Path
) -> None:
    listing = (await local_mail.page.get("/")).text
    link = re.findall(r'<a href="(/mail/[^"]+)">', listing)[0]
    files = [tmp_path / "list.html", tmp_path / "mail.html"]
    files[0].write_text(listing, encoding="utf-8")
    files[1].write_text((await local_mail.page.get(link)).text, encoding="utf-8")
    assert html_errors(files) == []


@pytest.mark.parametrize("path", ["/mail/none.eml", "/mail/..%2Fsmtp.py", "/mail/none.eml/html"])
async def test_what_is_no_mail_of_the_folder_is_not_found(local_mail: LocalMail, path: str) -> None:
    assert (await local_mail.page.get(path)).status_code == 404


async def test_a_mail_of_the_running_notifier_opens_rendered(
    stack: Servers, unique: str, sink: Sink, local_mail: LocalMail, producer: AIOKafkaProducer
) -> None:
    """Done when of issue 18: a mail the notifier sent, opened in the page, shows its HTML."""
    customer, order = f"c-{unique}", uuid4()
    mailbox = Mailbox(sink.folder)
    mailbox.port = sink.smtp_port  # the notifier sends to the page's own SMTP server
    clock = FrozenClock(events.AT)
    async with notifier_running(stack, f"t{unique}.", clock, mailbox, producer) as notifier:
        await notifier.publish(events.placed(order, customer, locale="de"), events.suspended(order))
        await notifier.mails_to(f"{customer}@example.com", 1)
    listing = (await local_mail.page.get("/")).text
    _, row = row_of(listing, f"{customer}@example.com")
    assert "r1z7og44 ist gesperrt: Rechnung offen" in row
    [link] = re.findall(r'<a href="(/mail/[^"]+)">', row)
    page = (await local_mail.page.get(link)).text
    [frame] = re.findall(r'<iframe sandbox src="([^"]+)"', page)
    rendered = (await local_mail.page.get(frame)).text
    assert '<html lang="de">' in rendered
    assert "Wir haben Ihren Dienst r1z7og44 gesperrt" in rendered


async def test_the_process_stops_on_sigterm_and_frees_its_ports(tmp_path: Path) -> None:
    """As the process manager stops it at Ctrl-C (uvicorn ends by raising the signal again).
    A server of its own: the other tests' server goes on."""
    with running_sink(tmp_path) as sink:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sink.http_port}") as page:
            await until_it_answers(page)
        sink.process.send_signal(signal.SIGTERM)
        assert sink.process.wait(timeout=20) in (0, -signal.SIGTERM)
    for port in (sink.smtp_port, sink.http_port):
        with socket.socket() as probe:
            # As a server binds: closed connections may linger, a listener may not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
            probe.listen()
