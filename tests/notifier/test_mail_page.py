"""The local mail page, as ``make up`` runs it (``python -m deploy.smtp``, a real process):
mails the notifier's SMTP client sends show up in the list with recipient, subject and time,
and each opens rendered."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from services.notifier.mailer import Smtp
from services.notifier.settings import NotifierSettings
from tests.apps import ROOT
from tests.helpers import eventually
from tests.notifier.conftest import free_port
from tests.notifier.mails import Recorded, recorded_mails


@dataclass
class LocalMail:
    """The local SMTP server with its mail page, and a client of each."""

    smtp: Smtp
    page: httpx.AsyncClient
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def local_mail_process(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[int, int, subprocess.Popen[bytes]]]:
    smtp_port, http_port = free_port(), free_port()
    while http_port == smtp_port:
        http_port = free_port()
    folder = tmp_path_factory.mktemp("local-mail")
    command = [sys.executable, "-m", "deploy.smtp", "--port", str(smtp_port)]
    command += ["--http-port", str(http_port), "--folder", str(folder)]
    process = subprocess.Popen(command, cwd=ROOT)
    yield smtp_port, http_port, process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
async def local_mail(
    local_mail_process: tuple[int, int, subprocess.Popen[bytes]],
) -> AsyncIterator[LocalMail]:
    smtp_port, http_port, process = local_mail_process
    identity = NotifierSettings().mail_identity()
    smtp = Smtp("127.0.0.1", smtp_port, identity, timedelta(seconds=10))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as page:

        async def answers() -> bool:
            try:
                return (await page.get("/")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(answers, timeout=30)
        yield LocalMail(smtp, page, process)


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
    return re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1], re.DOTALL)


async def test_the_list_shows_recipient_subject_and_time_newest_first(
    local_mail: LocalMail, sent: list[Recorded]
) -> None:
    response = await local_mail.page.get("/")
    assert response.headers["content-type"].startswith("text/html")
    german, polish = sent
    newest, older = rows(response.text)
    for row, mail in ((newest, polish), (older, german)):
        assert mail.recipient in row
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


@pytest.mark.parametrize("path", ["/mail/none.eml", "/mail/..%2Fsmtp.py", "/mail/none.eml/html"])
async def test_what_is_no_mail_of_the_folder_is_not_found(local_mail: LocalMail, path: str) -> None:
    assert (await local_mail.page.get(path)).status_code == 404


def test_the_process_stops_on_sigterm_and_frees_its_ports(
    local_mail_process: tuple[int, int, subprocess.Popen[bytes]],
) -> None:
    """As the process manager stops it at Ctrl-C (uvicorn ends by raising the signal again)."""
    smtp_port, http_port, process = local_mail_process
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    for port in (smtp_port, http_port):
        with socket.socket() as probe:
            # As a server binds: closed connections may linger, a listener may not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
            probe.listen()
