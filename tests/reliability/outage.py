"""What the outage tests share: Kafka and PostgreSQL of their own (they kill them), a load of
customers placing orders over HTTP and a payment gateway paying them, and the honest count of
what was accepted and what became of it.

The servers are this module's, not the session ``stack``: started from ``deploy/infra.py`` in a
temporary folder on ports of their own (``TEST_OUTAGE_PG_PORT``, ``TEST_OUTAGE_KAFKA_PORT``),
so killing them hurts no other test. Kafka restarts on the same folder and port, PostgreSQL on
the same cluster."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import TOPICS, PaymentReceived
from deploy import infra
from services.kit.kafka import DLQ_PARTITIONS
from tests.apps import bearer
from tests.e2e.story import payment_received
from tests.e2e.system import OutsideWorld, System
from tests.stack import Servers

PG_PORT = int(os.environ.get("TEST_OUTAGE_PG_PORT", "55442"))
KAFKA_PORT = int(os.environ.get("TEST_OUTAGE_KAFKA_PORT", "59242"))

Json = dict[str, Any]


# --- servers of our own --------------------------------------------------------------------------


class OwnServers:
    """A PostgreSQL cluster and a Kafka node in one folder, with their process handles."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.postgres = infra.Postgres(folder / "pg", port=PG_PORT)
        self.kafka = infra.Kafka(folder / "kafka", port=KAFKA_PORT)
        self.pg_process: subprocess.Popen[bytes] | None = None
        self.kafka_process: subprocess.Popen[bytes] | None = None
        self.servers = Servers(
            self.kafka.bootstrap,
            f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres",
            "127.0.0.1",
            PG_PORT,
        )

    def start_postgres(self) -> None:
        """Start (or restart) the cluster; returns once it accepts connections."""
        self.pg_process = self.postgres.start(log=self.folder / "postgres.log")

    def start_kafka(self) -> None:
        """Start (or restart, same folder and port) the node; returns once it listens."""
        self.kafka_process = self.kafka.start(log=self.folder / "kafka.log")

    def kill_kafka(self) -> None:
        """SIGKILL: no flush, no controlled shutdown."""
        assert self.kafka_process is not None
        os.killpg(self.kafka_process.pid, signal.SIGKILL)
        self.kafka_process.wait(30)

    def stop_postgres_immediately(self) -> None:
        """Immediate shutdown (SIGQUIT to the postmaster): no checkpoint, crash recovery at the
        next start."""
        assert self.pg_process is not None
        self.pg_process.send_signal(signal.SIGQUIT)
        self.pg_process.wait(60)

    def stop(self) -> None:
        if self.kafka_process is not None:
            infra.stop(self.kafka_process)
        if self.pg_process is not None:
            infra.stop(self.pg_process, sig=signal.SIGINT)


@contextlib.contextmanager
def own_servers() -> Iterator[OwnServers]:
    """Kafka and PostgreSQL for one module, stopped and removed at the end whatever happens."""
    for port in (PG_PORT, KAFKA_PORT, KAFKA_PORT + 1):  # + 1: Kafka's controller listener
        _assert_free(port)
    folder = Path(tempfile.mkdtemp(prefix="order-platform-outages-"))
    own = OwnServers(folder)
    try:
        own.start_postgres()
        own.start_kafka()
        yield own
    finally:
        try:
            own.stop()
        finally:
            own.postgres.remove()
            shutil.rmtree(folder, ignore_errors=True)


def _assert_free(port: int) -> None:
    """Another server on our port would pass for ours (the start waits for the port)."""
    if infra.port_taken(port):
        raise RuntimeError(
            f"127.0.0.1:{port} is taken: set TEST_OUTAGE_PG_PORT / TEST_OUTAGE_KAFKA_PORT "
            "to free ports (Kafka uses its port and the next one)"
        )


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One HTTP request of the load: when it was sent and what came back (None: no answer)."""

    sent: float
    answered: float
    status: int | None
    what: str
    retry_after: str | None = None
    body: str = ""


@dataclass
class Customer:
    index: int
    headers: dict[str, str]
    #: Idempotency key -> the order id its 201 named (every 201 for one key must name one id).
    keys: dict[str, str] = field(default_factory=dict)
    #: The key being tried and not yet answered 201.
    pending: str | None = None


class Load:
    """Customers placing orders (``POST /orders`` with an Idempotency-Key, as a web shop does:
    a request that got no 201 is tried again with the same key) and a payment gateway paying
    every second accepted order once its invoice shows."""

    def __init__(
        self,
        system: System,
        world: OutsideWorld,
        tag: str,
        customers: int = 3,
        pace: float = 0.4,
    ) -> None:
        self.system = system
        self.world = world
        self.pace = pace
        self.customers = [
            Customer(i, bearer("customer", f"c-{tag}-{i}", name=f"Customer {i}"))
            for i in range(customers)
        ]
        self.answers: list[Answer] = []
        #: Requests sent and not answered yet, by what they are ("place", "read").
        self.outstanding: Counter[str] = Counter()
        self._sending: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        #: Every order id answered with 201, and whose it is.
        self.accepted: dict[str, Customer] = {}
        self.accepted_at: dict[str, float] = {}
        #: Orders the gateway pays: order id -> the payment (sent again as is until it went).
        self.to_pay: list[str] = []
        self.payments: dict[str, PaymentReceived] = {}
        self.paid: set[str] = set()
        self.http = httpx.AsyncClient(timeout=10)
        self._placing = True
        self._paying = True
        self._tasks: list[asyncio.Task[None]] = []

    # -- running -------------------------------------------------------------------------------

    async def __aenter__(self) -> Load:
        self._tasks = [
            asyncio.create_task(self._customer(customer), name=f"customer-{customer.index}")
            for customer in self.customers
        ]
        self._tasks.append(asyncio.create_task(self._gateway(), name="gateway"))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._placing = self._paying = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.aclose()

    async def stop(self, patience: float) -> None:
        """Stop placing new orders: every key already tried is tried until it gets its 201,
        every payment made is sent until it went (within ``patience`` seconds)."""
        self._placing = False
        customers, gateway = self._tasks[:-1], self._tasks[-1]
        async with asyncio.timeout(patience):
            await asyncio.gather(*customers)
            self._paying = False
            await gateway

    async def _customer(self, customer: Customer) -> None:
        while self._placing or customer.pending is not None:
            if customer.pending is None:
                customer.pending = str(uuid4())
            status = await self._place(customer, customer.pending)
            if status == 201:
                customer.pending = None
                await asyncio.sleep(self.pace)
            elif status == 503 or status is None:
                await asyncio.sleep(0.5)
            else:
                customer.pending = None  # recorded as a wrong answer; the test fails on it
                await asyncio.sleep(self.pace)

    async def _place(self, customer: Customer, key: str) -> int | None:
        url = f"{self.system.url('orders')}/orders"
        body = {"plan": "vps-s", "period_months": 1, "comment": "under faults"}
        response = await self._request(
            "place", "POST", url, json=body, headers={**customer.headers, "Idempotency-Key": key}
        )
        if response is None or response.status_code != 201:
            return None if response is None else response.status_code
        order_id = response.json()["id"]
        earlier = customer.keys.setdefault(key, order_id)
        assert earlier == order_id, f"key {key} answered {earlier} and then {order_id}"
        if order_id not in self.accepted:
            self.accepted[order_id] = customer
            self.accepted_at[order_id] = time.monotonic()
            if len(self.accepted) % 2 == 0:
                self.to_pay.append(order_id)
        return 201

    async def _request(self, what: str, method: str, url: str, **kwargs: Any) -> Any:
        sent = time.monotonic()
        self.outstanding[what] += 1
        self._sending[what].set()
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            self.answers.append(Answer(sent, time.monotonic(), None, what, body=repr(error)))
            return None
        finally:
            self.outstanding[what] -= 1
        self.answers.append(
            Answer(
                sent,
                time.monotonic(),
                response.status_code,
                what,
                response.headers.get("Retry-After"),
                response.text[:500] if response.status_code >= 400 else "",
            )
        )
        return response

    async def _gateway(self) -> None:
        """Pay what can be paid: an order's invoice once billing shows it; a payment that could
        not be sent is sent again, the same event, until it went."""
        while self._paying or set(self.payments) - self.paid:
            for order_id in [o for o in self.to_pay if o not in self.paid]:
                if self._paying or order_id in self.payments:
                    await self._pay(order_id)
            await asyncio.sleep(0.5)

    async def _pay(self, order_id: str) -> None:
        payment = self.payments.get(order_id)
        if payment is None:
            customer = self.accepted[order_id]
            url = f"{self.system.url('billing')}/invoices?order_id={order_id}"
            response = await self._request("read", "GET", url, headers=customer.headers)
            if response is None or response.status_code != 200 or not response.json()["items"]:
                return
            invoice = response.json()["items"][0]
            payment = payment_received(self.system, invoice)
            self.payments[order_id] = payment
        try:
            async with asyncio.timeout(5):
                await self.world.send(payment)
        except Exception:  # Kafka down: the same event goes again next round
            return
        self.paid.add(order_id)

    # -- what the load saw ---------------------------------------------------------------------

    async def busy(self, what: str, patience: float = 5.0) -> None:
        """Return as soon as a request of this kind is on its way (or after ``patience``)."""
        if self.outstanding[what]:
            return
        sending = self._sending[what]
        sending.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(patience):
                await sending.wait()

    def paid_orders(self) -> set[str]:
        """Orders whose payment went to the gateway's topic."""
        return set(self.paid)

    def statuses(self, what: str = "place") -> Counter[int | None]:
        return Counter(answer.status for answer in self.answers if answer.what == what)

    def unanswered(self, what: str = "place") -> Counter[str]:
        """Requests that got no HTTP answer, by what happened instead (refused, timed out,
        dropped)."""
        return Counter(
            a.body.partition("(")[0] for a in self.answers if a.what == what and a.status is None
        )

    def wrong_answers(self) -> list[Answer]:
        """Answers a client may never get under these faults: anything but success or 503
        (4xx included: every request of the load is valid), and a 503 without Retry-After."""
        return [
            answer
            for answer in self.answers
            if answer.status is not None
            and not (answer.status in (200, 201) or (answer.status == 503 and answer.retry_after))
        ]

    def first_accepted_after(self, instant: float) -> float | None:
        """When the first request sent at or after ``instant`` was answered 201."""
        times = [
            a.answered
            for a in self.answers
            if a.what == "place" and a.status == 201 and a.sent >= instant
        ]
        return min(times) if times else None

    def accepted_before(self, instant: float) -> list[str]:
        return [order for order, at in self.accepted_at.items() if at <= instant]


class Readiness:
    """Polls every process's ``/readyz`` while it runs: what each answered."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.seen: dict[str, Counter[int | None]] = {name: Counter() for name in system.names()}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Readiness:
        self._task = asyncio.create_task(self._watch(), name="readiness")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _watch(self) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            while True:
                for name in self.system.names():
                    try:
                        response = await http.get(f"{self.system.url(name)}/readyz")
                        self.seen[name][response.status_code] += 1
                    except httpx.HTTPError:
                        self.seen[name][None] += 1
                await asyncio.sleep(0.5)

    def not_ready(self) -> list[str]:
        """The processes that said at least once that they are not ready."""
        return [name for name, counts in self.seen.items() if counts[503]]


# --- what became of the accepted orders ----------------------------------------------------------


@dataclass
class Effects:
    """One accepted order as the services show it."""

    order: Json | None = None
    invoices: list[Json] = field(default_factory=list)
    journal: Counter[str] = field(default_factory=Counter)
    whole: bool = False
    payments: int = 0

    def complete(self, paid: bool) -> bool:
        wanted = {"order.placed", "invoice.issued"} | (
            {"invoice.paid", "order.accepted"} if paid else set()
        )
        return (
            self.order is not None
            and len(self.invoices) >= 1
            and wanted <= set(self.journal)
            and (not paid or self.payments >= 1)
        )

    def duplicated(self, paid: bool) -> list[str]:
        once = ["order.placed", "invoice.issued"] + (
            ["invoice.paid", "order.accepted"] if paid else []
        )
        found = [f"{name} x{self.journal[name]}" for name in once if self.journal[name] > 1]
        if len(self.invoices) > 1:
            found.append(f"{len(self.invoices)} invoices")
        if self.payments > 1:
            found.append(f"{self.payments} payments")
        return found


async def read(http: httpx.AsyncClient, url: str, who: dict[str, str], **params: Any) -> Any:
    """GET, tried again when the connection drops (a kept-alive connection the server closed
    as it was reused): reading changes nothing."""
    for attempt in range(5):
        try:
            return await http.get(url, headers=who, params=params or None)
        except httpx.TransportError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def effects_of(
    http: httpx.AsyncClient, system: System, order_id: str, who: dict[str, str], paid: bool
) -> Effects:
    """What orders, billing and audit show of one order to its customer."""
    found = Effects()
    response = await read(http, f"{system.url('orders')}/orders/{order_id}", who)
    if response.status_code == 200:
        found.order = response.json()
    response = await read(http, f"{system.url('billing')}/invoices?order_id={order_id}", who)
    if response.status_code == 200:
        found.invoices = response.json()["items"]
    journal = f"{system.url('audit')}/orders/{order_id}/journal"
    response = await read(http, f"{journal}?order=oldest&limit=200", who)
    if response.status_code == 200:
        found.journal = Counter(entry["type"] for entry in response.json()["entries"])
        verified = await read(http, f"{journal}/verify", who)
        found.whole = verified.status_code == 200 and verified.json()["status"] == "whole"
    if paid and found.invoices:
        invoice_id = found.invoices[0]["id"]
        response = await read(http, f"{system.url('billing')}/invoices/{invoice_id}", who)
        if response.status_code == 200:
            found.payments = len(response.json()["payments"])
    return found


async def all_of(http: httpx.AsyncClient, url: str, who: dict[str, str]) -> list[Json]:
    """Every item of a paged list (``next_cursor``), 200 a page."""
    items: list[Json] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        response = await read(http, url, who, **params)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
        page = response.json()
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


@dataclass
class Verdict:
    """Lost and duplicated effects of a load, from the services' own answers."""

    lost: list[str]
    duplicates: list[str]
    incomplete: dict[str, Effects]
    #: When the last accepted order showed all its effects (monotonic).
    complete_at: float
    #: Messages on the system's dead-letter topics, by topic (a passing fault leaves none).
    dead_letters: dict[str, int]


async def effects_visible(
    load: Load, orders: list[str], patience: float
) -> tuple[dict[str, Effects], set[str], float]:
    """Poll until each of ``orders`` shows its effects (at most ``patience`` seconds): what
    was seen of each, which are still incomplete, and when the last one was complete."""
    paid = load.paid_orders()
    pending = set(orders)
    seen: dict[str, Effects] = {}
    deadline = time.monotonic() + patience
    semaphore = asyncio.Semaphore(8)
    async with httpx.AsyncClient(timeout=15) as http:

        async def look(order_id: str) -> None:
            async with semaphore:
                seen[order_id] = await effects_of(
                    http, load.system, order_id, load.accepted[order_id].headers, order_id in paid
                )

        while pending:
            # A service that stops answering must not hold the test past its patience: each
            # read may wait 15 s, five times, for every order.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(deadline - time.monotonic(), 1.0)):
                    await asyncio.gather(*(look(order_id) for order_id in pending))
            pending = {o for o in pending if o not in seen or not seen[o].complete(o in paid)}
            if pending and time.monotonic() < deadline:
                await asyncio.sleep(1.0)
            elif pending:
                break
    return seen, pending, time.monotonic()


async def judge(load: Load, patience: float) -> Verdict:
    """Wait (up to ``patience`` seconds) until every accepted order shows its effects, then
    count what is missing and what is doubled, from the services' own answers."""
    system = load.system
    paid = load.paid_orders()
    deadline = time.monotonic() + patience
    seen, pending, complete_at = await effects_visible(load, list(load.accepted), patience)
    async with httpx.AsyncClient(timeout=15) as http:

        async def acceptance_tickets(customer: Customer) -> Counter[str]:
            url = f"{system.url('notifier')}/tickets"
            return Counter(
                t["order_id"]
                for t in await all_of(http, url, customer.headers)
                if t["reason"] == "acceptance"
            )

        # The acceptance ticket of every paid order (the notifier's effect), per customer.
        while True:
            tickets = {c.index: await acceptance_tickets(c) for c in load.customers}
            unticketed = paid - {o for counts in tickets.values() for o in counts}
            if not unticketed or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        if unticketed:
            pending |= unticketed
        else:
            complete_at = max(complete_at, time.monotonic())

        duplicates = [
            f"{order_id}: {problem}"
            for order_id, effects in seen.items()
            for problem in effects.duplicated(order_id in paid)
        ]
        duplicates += [f"{o}: journal not whole" for o, e in seen.items() if not e.whole]
        # Nothing the customers did not get a 201 for: each customer's order list, invoices
        # and tickets hold the accepted orders only, once each.
        for customer in load.customers:
            mine = {o for o, c in load.accepted.items() if c is customer}
            rows = await all_of(http, f"{system.url('orders')}/orders", customer.headers)
            listed = Counter(row["id"] for row in rows)
            duplicates += [f"order {o} listed x{n}" for o, n in listed.items() if n > 1]
            duplicates += [f"order {o} never accepted" for o in set(listed) - mine]
            bills = await all_of(http, f"{system.url('billing')}/invoices", customer.headers)
            invoices = Counter(order for bill in bills for order in bill["order_ids"])
            duplicates += [f"{o}: {n} invoices" for o, n in invoices.items() if n > 1]
            duplicates += [f"invoice for {o}, never accepted" for o in set(invoices) - mine]
            counts = tickets[customer.index]
            duplicates += [f"{o}: {n} acceptance tickets" for o, n in counts.items() if n > 1]
            duplicates += [f"ticket for {o}, never paid" for o in set(counts) - paid]
    lost = sorted(pending)
    incomplete = {o: seen[o] for o in lost if o in seen}
    return Verdict(lost, duplicates, incomplete, complete_at, await dead_letters(system))


async def dead_letters(system: System) -> dict[str, int]:
    """How many messages each of the system's dead-letter topics holds (only non-empty ones):
    a fault that passes must never dead-letter anything."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=system.stack.kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(system.prefix + topic.dlq, partition)
            for topic in TOPICS.values()
            for partition in range(DLQ_PARTITIONS)
        ]
        ends = await consumer.end_offsets(partitions)
        begins = await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    held = Counter[str]()
    for tp in partitions:
        held[tp.topic] += ends[tp] - begins[tp]
    return {topic: count for topic, count in held.items() if count}
