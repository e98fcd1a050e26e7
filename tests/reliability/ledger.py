"""A workload for the whole system and the ledger that checks it: many customers' orders placed,
paid by the gateway and delivered by provisioning, then every effect counted where an operator
would count it (the four databases, the journal's verification, the mail folder).

"Exactly once" is read off the effects, not the logs: one invoice per order, one payment, each
journal entry of the order's life once, one acceptance mail and ticket, and a whole chain."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from tests.apps import bearer
from tests.e2e.story import PATIENCE, STAFF, deliver, month_after, pay
from tests.e2e.system import SERVICES, OutsideWorld, System
from tests.helpers import eventually

#: The journal entries of an order's life from placed to processed, each wanted exactly once.
LIFE = (
    "order.placed",
    "invoice.issued",
    "invoice.paid",
    "order.accepted",
    "service.delivered",
    "order.completed",
)

#: The journal entries a renewal adds, each wanted exactly once.
RENEWAL = ("order.renewal_requested", "order.renewed")

#: Requests in flight at once, as a few busy customers would send them.
CONCURRENCY = 8


def customer(number: int) -> dict[str, str]:
    return bearer(
        "customer", f"c-load-{number}", name=f"Load {number}", email=f"load{number}@example.com"
    )


async def gathered(calls: Iterable[Callable[[], Awaitable[Any]]]) -> list[Any]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with limit:
            return await call()

    return await asyncio.gather(*(one(call) for call in calls))


@dataclass
class Workload:
    """Orders of ``customers`` customers, placed through the given orders processes in turn."""

    system: System
    world: OutsideWorld
    http: httpx.AsyncClient
    customers: int = 10
    #: order id -> the customer's headers
    placed: dict[str, dict[str, str]] = field(default_factory=dict)

    async def place(self, count: int, through: list[str]) -> list[str]:
        async def one(number: int) -> str:
            who = customer(number % self.customers)
            process = through[number % len(through)]
            response = await self.http.post(
                f"{self.system.url(process)}/orders",
                json={"plan": "vps-s", "period_months": 1},
                headers={**who, "Idempotency-Key": str(uuid4())},
            )
            assert response.status_code == 201, response.text
            order_id = str(response.json()["id"])
            self.placed[order_id] = who
            return order_id

        start = len(self.placed)
        return list(await gathered(lambda n=n: one(n) for n in range(start, start + count)))

    async def pay(self, order_ids: list[str], kind: str = "initial") -> None:
        """The gateway pays each order's invoice of ``kind`` once the customer can see it."""

        async def one(order_id: str) -> None:
            billing = [name for name in self.system.names() if name.startswith("billing")]
            asked: list[str] = []

            async def invoice() -> Any:
                # whichever billing process is up: a fault test may have just killed one
                process = billing[len(asked) % len(billing)]
                asked.append(process)
                url = f"{self.system.url(process)}/invoices?order_id={order_id}"
                try:
                    response = await self.http.get(url, headers=self.placed[order_id])
                except httpx.TransportError:
                    return None
                if response.status_code != 200:
                    return None
                return [i for i in response.json()["items"] if i["kind"] == kind]

            [first] = await eventually(invoice, timeout=PATIENCE * 3, interval=0.5)
            await pay(self.world, self.system, first)

        await gathered(lambda o=o: one(o) for o in order_ids)

    async def renew(self, order_ids: list[str]) -> dict[str, date]:
        """Each customer renews each order for a month; returns the paid-until each should
        reach once its renewal invoice is paid."""
        paid_until = {
            str(row["id"]): row["paid_until"]
            for row in await self.system_query(
                "orders",
                "SELECT id, paid_until FROM orders WHERE id = ANY($1)",
                [UUID(o) for o in order_ids],
            )
        }

        async def one(order_id: str) -> None:
            response = await self.http.post(
                f"{self.system.url('orders')}/orders/{order_id}/renew",
                json={"period_months": 1},
                headers=self.placed[order_id],
            )
            assert response.status_code == 200, response.text

        await gathered(lambda o=o: one(o) for o in order_ids)
        return {order_id: month_after(paid_until[order_id]) for order_id in order_ids}

    async def all_paid_until(self, wanted: dict[str, date], timeout: float) -> None:
        async def reached() -> bool:
            rows = await self.system_query(
                "orders",
                "SELECT id, paid_until FROM orders WHERE id = ANY($1)",
                [UUID(o) for o in wanted],
            )
            return all(row["paid_until"] == wanted[str(row["id"])] for row in rows)

        await eventually(reached, timeout=timeout, interval=1.0)

    async def deliver(self, order_ids: list[str]) -> None:
        for number, order_id in enumerate(order_ids):
            await deliver(self.world, self.system, order_id, f"198.51.100.{number % 250 + 1}")

    async def serve(self, order_ids: list[str], timeout: float) -> None:
        """The gateway pays each order's first invoice, provisioning delivers each order once
        it is in progress: each ends processed."""
        await self.pay(order_ids)
        await self.all_in(order_ids, "in_progress", timeout)
        await self.deliver(order_ids)
        await self.all_in(order_ids, "processed", timeout)

    async def all_in(self, order_ids: list[str], status: str, timeout: float) -> None:
        """Wait until every order shows ``status`` to its customer."""

        async def reached() -> bool:
            rows = await self.system_query(
                "orders",
                "SELECT count(*) FROM orders WHERE id = ANY($1) AND status = $2",
                [UUID(o) for o in order_ids],
                status,
            )
            return bool(rows[0][0] == len(order_ids))

        await eventually(reached, timeout=timeout, interval=1.0)

    async def system_query(self, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await query(self.system, service, sql, *args)


async def query(system: System, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    database = f"{service}_{system.prefix.strip('.')}"
    connection = await asyncpg.connect(system.stack.admin_url(database))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


#: Effects to find once per order: (what, service, query of order id -> count).
PER_ORDER = (
    (
        "order processed",
        "orders",
        "SELECT id, count(*) FROM orders WHERE id = ANY($1) AND status = 'processed' GROUP BY 1",
    ),
    (
        "invoice",
        "billing",
        "SELECT order_id, count(*) FROM invoice_lines WHERE order_id = ANY($1) GROUP BY 1",
    ),
    (
        "payment",
        "billing",
        """SELECT l.order_id, count(*) FROM payments p JOIN invoice_lines l USING (invoice_id)
           WHERE l.order_id = ANY($1) GROUP BY 1""",
    ),
    (
        "acceptance ticket",
        "notifier",
        "SELECT order_id, count(*) FROM tickets WHERE order_id = ANY($1) GROUP BY 1",
    ),
)
JOURNAL = """SELECT order_id, count(*) FROM journal_entries
             WHERE order_id = ANY($1) AND event_type = $2 GROUP BY 1"""


@dataclass
class Findings:
    """What the ledger found for a set of orders: zero duplicates and zero lost is the goal."""

    orders: int
    duplicates: Counter[str]
    lost: Counter[str]
    broken_chains: list[str]
    mails_resent: int

    def figures(self) -> dict[str, int]:
        return {
            "duplicates": sum(self.duplicates.values()),
            "lost": sum(self.lost.values()),
            "broken_chains": len(self.broken_chains),
            "mails_resent": self.mails_resent,
        }

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.lost or self.broken_chains)


async def audit_ledger(system: System, order_ids: list[str], renewed: bool = False) -> Findings:
    """Count every effect of the processed orders' lives, in every service; ``renewed``: each
    order was renewed once too (a second invoice and payment, two more journal entries)."""
    ids = [UUID(o) for o in order_ids]
    duplicates: Counter[str] = Counter()
    lost: Counter[str] = Counter()

    def tally(what: str, counts: dict[UUID, int], wanted: int = 1) -> None:
        for order_id in ids:
            found = counts.get(order_id, 0)
            if found < wanted:
                lost[what] += wanted - found
            elif found > wanted:
                duplicates[what] += found - wanted

    # a renewal is a second invoice, issued and paid, and a second payment
    twice = {"invoice", "payment", "invoice.issued", "invoice.paid"} if renewed else set()
    for what, service, sql in PER_ORDER:
        tally(what, await counts(system, service, sql, ids), 2 if what in twice else 1)
    for event_type in LIFE + (RENEWAL if renewed else ()):
        found = await counts(system, "audit", JOURNAL, ids, event_type)
        tally(f"journal {event_type}", found, 2 if event_type in twice else 1)
    accepted_mails = await query(
        system,
        "notifier",
        "SELECT id, order_id FROM mails WHERE order_id = ANY($1) AND kind = 'acceptance'",
        ids,
    )
    tally("acceptance mail", dict(Counter(row["order_id"] for row in accepted_mails)))

    # What reached the SMTP server: each mail once by its Message-ID. A notifier killed between
    # the SMTP answer and its commit sends the same message again (same Message-ID), which mail
    # systems drop as a duplicate; counted apart, not as a second mail. The Message-ID's
    # domain is the configured sender's: a mail is matched by the id before it.
    mail_ids = {str(row["id"]) for row in accepted_mails}
    received = Counter(
        mail_id
        for m in system.mails()
        if (mail_id := str(m["Message-ID"] or "").strip("<>").partition("@")[0]) in mail_ids
    )
    for message_id in mail_ids:
        if not received[message_id]:
            lost["acceptance mail at SMTP"] += 1
    resent = sum(n - 1 for n in received.values())

    return Findings(len(ids), duplicates, lost, await broken_chains(system, order_ids), resent)


async def counts(system: System, service: str, sql: str, *args: Any) -> dict[UUID, int]:
    return {row[0]: row[1] for row in await query(system, service, sql, *args)}


async def broken_chains(system: System, order_ids: list[str]) -> list[str]:
    """The orders whose journal does not verify as whole (staff's verification endpoint)."""
    async with httpx.AsyncClient(timeout=30) as http:

        async def verify(order_id: str) -> str | None:
            url = f"{system.url('audit')}/orders/{order_id}/journal/verify"
            response = await http.get(url, headers=STAFF)
            whole = response.status_code == 200 and response.json()["status"] == "whole"
            return None if whole else order_id

        return [o for o in await gathered(lambda o=o: verify(o) for o in order_ids) if o]


#: What the clock, not an event, adds to: the audit service's checkpoints take the entries
#: journaled so far into the tree every minute, and publish each checkpoint.
TIME_DRIVEN = {
    "audit.checkpoints": None,
    "audit.journal_leaves": None,
    "audit.outbox": "WHERE topic NOT LIKE '%audit.checkpoints'",
}


async def every_row(system: System) -> dict[str, int]:
    """Rows of every table of every service: a redelivered event that had a new effect shows
    here (a row more in a table, an outbox row more to publish)."""
    found: dict[str, int] = {}
    for service in SERVICES:
        tables = await query(
            system,
            service,
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        for (table,) in tables:
            name = f"{service}.{table}"
            if name in TIME_DRIVEN and TIME_DRIVEN[name] is None:
                continue
            where = TIME_DRIVEN.get(name) or ""
            [(rows,)] = await query(system, service, f'SELECT count(*) FROM "{table}" {where}')
            found[name] = rows
    return found
