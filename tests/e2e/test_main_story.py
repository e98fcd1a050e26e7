"""The main story, through HTTP and inbound events only, with the four services running as
processes: a customer orders, pays, is served, and every step is in a journal that verifies;
a second customer sees none of it."""

from __future__ import annotations

import json
from typing import Any

import httpx

from services.audit.outsider import verify_export
from services.audit.signing import load_public_key
from tests.e2e.story import (
    ADA,
    BOB,
    PATIENCE,
    STAFF,
    deliver,
    first_invoice,
    get_json,
    order_in,
    pay,
    place,
)
from tests.e2e.system import OutsideWorld, System
from tests.helpers import eventually


async def test_order_paid_delivered_journaled_and_private(
    system: System, world: OutsideWorld
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        order = await place(http, system, "vps-s")
        assert order["status"] == "not_processed"
        invoice = await first_invoice(http, system, order["id"])
        assert invoice["total"] == {"amount": "4.00", "currency": "EUR"}
        assert invoice["status"] == "open"

        await pay(world, system, invoice)
        accepted = await order_in(http, system, order["id"], "in_progress")
        assert accepted["invoice_count"] == 1

        async def acceptance_ticket() -> Any:
            page = await get_json(http, f"{system.url('notifier')}/tickets", ADA)
            return [t for t in page["items"] if t["order_id"] == order["id"]]

        [ticket] = await eventually(acceptance_ticket)
        assert ticket["reason"] == "acceptance"

        async def acceptance_mail() -> Any:
            return [m for m in system.mails() if accepted["service_name"] in m["Subject"]]

        [mail] = await eventually(acceptance_mail)
        assert mail["To"] == "ada@example.com"
        assert mail.get_body(preferencelist=("plain",)) is not None
        assert mail.get_body(preferencelist=("html",)) is not None

        await deliver(world, system, order["id"], "203.0.113.7")
        done = await order_in(http, system, order["id"], "processed")
        assert done["main_ip"] == "203.0.113.7"
        assert done["paid_until"] is not None
        assert done["days_left"] > 0

        journal_url = f"{system.url('audit')}/orders/{order['id']}/journal"
        wanted = {
            "order.placed",
            "invoice.issued",
            "invoice.paid",
            "order.accepted",
            "service.delivered",
            "order.completed",
        }

        async def journaled() -> Any:
            page = await get_json(http, f"{journal_url}?order=oldest", ADA)
            return page if wanted <= {entry["type"] for entry in page["entries"]} else None

        page = await eventually(journaled)
        assert page["header"]["status"] == "processed"
        verified = await get_json(http, f"{journal_url}/verify", ADA)
        assert verified["status"] == "whole"

        for url in (
            f"{system.url('orders')}/orders/{order['id']}",
            f"{system.url('billing')}/invoices/{invoice['id']}",
            journal_url,
            f"{journal_url}/verify",
            f"{system.url('notifier')}/tickets/{ticket['id']}",
        ):
            assert (await http.get(url, headers=BOB)).status_code == 404, url
        for url in (
            f"{system.url('orders')}/orders",
            f"{system.url('billing')}/invoices",
            f"{system.url('notifier')}/tickets",
        ):
            assert (await get_json(http, url, BOB))["items"] == [], url


async def test_an_outsider_checks_the_journal_with_the_public_key_alone(system: System) -> None:
    """The audit service, serving as its append-only login, signs a checkpoint; the whole
    journal, the checkpoints and the public key verify outside it."""
    async with httpx.AsyncClient(timeout=30) as http:
        order = await place(http, system, "vps-s")
        audit = system.url("audit")

        async def journaled() -> bool:  # a 404 until order.placed reaches the journal
            answer = await http.get(f"{audit}/orders/{order['id']}/journal", headers=ADA)
            return answer.status_code == 200

        await eventually(journaled, timeout=PATIENCE, interval=0.5)
        made = await http.post(f"{audit}/journal/checkpoints", headers=STAFF)
        assert made.status_code == 200, made.text
        proof = await get_json(http, f"{audit}/orders/{order['id']}/journal/entries/1/proof", ADA)
        assert proof["entry"]["event_type"] == "order.placed"
        key = (await get_json(http, f"{audit}/journal/public-key", ADA))["public_key_pem"]
        journal = (await http.get(f"{audit}/journal/export", headers=STAFF)).text
        checkpoints = (await http.get(f"{audit}/journal/checkpoints/export", headers=STAFF)).text
    report = verify_export(
        [json.loads(line) for line in journal.splitlines()],
        [json.loads(line) for line in checkpoints.splitlines()],
        load_public_key(key),
    )
    assert report.whole, report.findings
    assert report.covered >= made.json()["tree_size"] >= 1
