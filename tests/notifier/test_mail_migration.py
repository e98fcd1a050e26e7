"""Mails recorded before the ``language`` column existed keep the language they were
written in, so a mail still pending after the upgrade declares the right Content-Language."""

from __future__ import annotations

import asyncio

import asyncpg

from services.kit.migrations import upgrade
from tests.apps import ROOT
from tests.stack import Servers

NOTIFIER = ROOT / "services" / "notifier"


async def test_pending_mails_take_the_language_of_their_html(stack: Servers, unique: str) -> None:
    name = f"mlang{unique}"
    url = await stack.create_database(name)
    await asyncio.to_thread(upgrade, NOTIFIER, url, "0003")
    database = await asyncpg.connect(stack.admin_url(name))
    try:
        for key, html in [
            ("de-mail", '<!doctype html>\n<html lang="de">\n<body>Hallo</body></html>'),
            ("pl-mail", '<!doctype html>\n<html lang="pl">\n<body>Witaj</body></html>'),
            ("no-lang", "<p>hello</p>"),
        ]:
            await database.execute(
                "INSERT INTO mails (id, key, kind, recipient, subject, text_body, html_body,"
                " status, next_attempt_at, created_at)"
                " VALUES (gen_random_uuid(), $1, 'acceptance', 'a@example.com', 's', 't', $2,"
                " 'pending', now(), now())",
                key,
                html,
            )
        await asyncio.to_thread(upgrade, NOTIFIER, url)
        found = dict(await database.fetch("SELECT key, language FROM mails"))
    finally:
        await database.close()
    assert found == {"de-mail": "de", "pl-mail": "pl", "no-lang": "en"}
