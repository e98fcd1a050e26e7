"""The local mail page: the mails the local SMTP server kept, newest first with recipient,
subject and time, each one shown rendered beside its text part and headers, as Mailpit does.

For the local stack only: it shows whatever is in the folder to anyone who can reach it, so
it listens on the loopback interface."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from jinja2 import DictLoader, Environment
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

#: The names ``deploy.smtp`` gives the files; anything else (``..``) is no mail of ours.
MAIL_NAME = re.compile(r"[\w-]+\.eml")

#: What a mail's own HTML may do inside the page: show itself, fetch nothing, run no script.
MAIL_HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

HEADERS = ("From", "Reply-To", "To", "Subject", "Date", "Message-ID", "Content-Language")

PAGES = {
    "layout": """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{% block title %}{% endblock %} · local mail</title>
{% block head %}{% endblock %}
<style>
body{font-family:Arial,Helvetica,sans-serif;margin:24px;color:#1f2933}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e4e7eb;vertical-align:top}
iframe{width:100%;height:640px;border:1px solid #cbd2d9}
pre{white-space:pre-wrap;background:#f5f7fa;padding:12px}
</style></head>
<body>{% block body %}{% endblock %}</body>
</html>""",
    "list": """{% extends "layout" %}{% block title %}{{ mails|length }} mails{% endblock %}
{% block head %}<meta http-equiv="refresh" content="5">{% endblock %}
{% block body %}<h1>Mail sent by the local stack</h1>
<p>{{ mails|length }} mails in {{ folder }}, newest first.</p>
<table>
<thead><tr><th>Time</th><th>To</th><th>Subject</th></tr></thead>
<tbody>
{% for mail in mails %}<tr><td>{{ mail.time }}</td><td>{{ mail.recipient }}</td>
<td><a href="/mail/{{ mail.name }}">{{ mail.subject }}</a></td></tr>
{% endfor %}</tbody>
</table>{% endblock %}""",
    "mail": """{% extends "layout" %}{% block title %}{{ mail.subject }}{% endblock %}
{% block body %}<p><a href="/">All mail</a> · <a href="/mail/{{ mail.name }}/raw">.eml</a></p>
<h1>{{ mail.subject }}</h1>
<table>{% for name, value in headers %}<tr><th>{{ name }}</th><td>{{ value }}</td></tr>
{% endfor %}</table>
{% if has_html %}<h2>HTML</h2>
<iframe sandbox src="/mail/{{ mail.name }}/html" title="The mail as HTML"></iframe>{% endif %}
<h2>Text</h2>
<pre>{{ text }}</pre>{% endblock %}""",
}


@dataclass(frozen=True)
class KeptMail:
    """One ``.eml`` file of the folder, read."""

    name: str
    message: EmailMessage
    received: datetime

    @property
    def recipient(self) -> str:
        return str(self.message["To"] or "")

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "(no subject)")

    @property
    def time(self) -> str:
        """The mail's Date in UTC; when it has none (older mail), when it arrived."""
        date = self.message["Date"]
        moment = date.datetime if date is not None and date.datetime else self.received
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def part(self, subtype: str) -> str | None:
        body = self.message.get_body((subtype,))
        return None if body is None else str(body.get_content())


def read(path: Path) -> KeptMail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # so says policy.default
    received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return KeptMail(path.name, message, received)


def create_app(folder: Path) -> Starlette:
    """The page over the mail folder of ``deploy.smtp``."""
    pages = Environment(loader=DictLoader(PAGES), autoescape=True)
    # The endpoints read files, so they are plain functions: Starlette runs them in threads.

    def kept(request: Request) -> KeptMail:
        name = request.path_params["name"]
        path = folder / name
        if not MAIL_NAME.fullmatch(name) or not path.is_file():
            raise HTTPException(404, f"no mail {name}")
        return read(path)

    def index(request: Request) -> Response:
        paths = sorted(folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime, p.name))
        mails = [read(path) for path in reversed(paths)]
        return HTMLResponse(pages.get_template("list").render(mails=mails, folder=folder))

    def show(request: Request) -> Response:
        mail = kept(request)
        headers = [(name, mail.message[name]) for name in HEADERS if mail.message[name]]
        text = mail.part("plain") or ""
        page = pages.get_template("mail").render(
            mail=mail, headers=headers, text=text, has_html=mail.part("html") is not None
        )
        return HTMLResponse(page)

    def html(request: Request) -> Response:
        body = kept(request).part("html")
        if body is None:
            raise HTTPException(404, "this mail has no HTML part")
        return HTMLResponse(body, headers={"Content-Security-Policy": MAIL_HTML_POLICY})

    def raw(request: Request) -> Response:
        mail = kept(request)
        return Response((folder / mail.name).read_bytes(), media_type="message/rfc822")

    return Starlette(
        routes=[
            Route("/", index),
            Route("/mail/{name}", show),
            Route("/mail/{name}/html", html),
            Route("/mail/{name}/raw", raw),
        ]
    )
