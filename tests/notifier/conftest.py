"""The notifier against the real Kafka and PostgreSQL of the run and a real SMTP server
(the local stack's ``deploy.smtp``) on a port of its own, whose mails the tests read back."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import random
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiosmtpd.controller import Controller
from sqlalchemy import text

from contracts import NOTIFIER, TOPICS
from contracts.envelope import Envelope
from deploy.smtp import MailFolder
from services.kit.clock import FrozenClock
from services.kit.kafka import ensure_topics
from services.notifier.jobs import SEND_MAIL
from tests.apps import RunningService, running_service
from tests.helpers import eventually
from tests.notifier.events import AT
from tests.stack import Servers

TOPIC_OF = {model: topic for topic in TOPICS.values() for model in topic.models.values()}


def free_port() -> int:
    """A free port of the notifier's test range (56100-56199)."""
    ports = list(range(56100, 56200))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 56100-56199")


class Mailbox:
    """A real SMTP server keeping each mail as a file; can be stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(MailFolder(self.folder), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        found = [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(self.folder.glob("*.eml"))
        ]
        mails = [m for m in found if isinstance(m, EmailMessage)]
        return [m for m in mails if to is None or m["To"] == to]


#: How long a test waits for an effect that comes through Kafka: generous, because this
#: machine is shared and a consumer group's first join can be slow; a passing wait ends early.
WAIT = 90.0


@pytest.fixture(scope="session", autouse=True)
async def kafka_groups_ready(stack: Servers) -> None:
    """Join a consumer group once before the tests: on a fresh cluster the first join waits
    for Kafka to create its offsets topic, which would otherwise eat a test's wait."""
    topic = "notifier-warmup"
    await ensure_topics(stack.kafka_bootstrap, [topic])
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=stack.kafka_bootstrap, group_id="notifier-warmup"
    )
    await consumer.start()
    try:

        async def assigned() -> bool:
            await consumer.getmany(timeout_ms=200)
            return bool(consumer.assignment())

        await eventually(assigned, timeout=180)
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    box = Mailbox(tmp_path_factory.mktemp("mail"))
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(AT)


@dataclass
class Notifier:
    """A running notifier with what its tests do to it."""

    service: RunningService
    prefix: str
    producer: AIOKafkaProducer
    mailbox: Mailbox
    stack: Servers

    async def publish(self, *events: Envelope[Any]) -> None:
        for event in events:
            topic = self.prefix + TOPIC_OF[type(event)].name
            key = str(event.order_id).encode() if event.order_id else None
            await self.producer.send_and_wait(topic, event.model_dump_json().encode(), key=key)

    async def send_mail(self) -> int | None:
        return await self.service.runtime.jobs.run_once(SEND_MAIL)

    async def mails_to(
        self, address: str, count: int, *, kind: str | None = None
    ) -> list[EmailMessage]:
        """Run the sender until ``count`` mails (of a kind) reached ``address``."""

        async def arrived() -> list[EmailMessage] | None:
            await self.send_mail()
            found = [
                mail
                for mail in self.mailbox.messages(address)
                if kind is None or mail["X-Notification-Kind"] == kind
            ]
            return found if len(found) >= count else None

        found = await eventually(arrived, timeout=WAIT)
        assert len(found) == count, [m["Subject"] for m in found]
        return found

    async def get(self, path: str, headers: dict[str, str], **params: Any) -> Any:
        response = await self.service.http.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def scalar(self, sql: str) -> Any:
        """A value read straight from the notifier's database (to set up a precondition)."""
        async with self.service.runtime.database.sessions() as session:
            return await session.scalar(text(sql))

    async def outbox_drained(self) -> None:
        """Wait until the relay published everything, before the service stops.

        Works around a race in the kit's relay on Python 3.11: ``asyncio.wait_for`` returns
        instead of raising when the cancel arrives as the relay's NOTIFY wake-up fires, so
        the relay never stops and the app's shutdown hangs (reported to the kit's owner)."""
        unpublished = "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"
        await eventually(lambda: self.scalar(unpublished), timeout=WAIT)
        await asyncio.sleep(0.3)  # let the relay's wake-up from the last NOTIFY pass

    async def events(self) -> list[Envelope[Any]]:
        """Everything the notifier has published so far."""
        return [NOTIFIER.parse(raw) for raw in await read_topic(self.stack, self.prefix)]


@pytest.fixture(scope="module")
async def producer(stack: Servers) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, enable_idempotence=True)
    await kafka.start()
    yield kafka
    await kafka.stop()


@contextlib.asynccontextmanager
async def notifier_running(
    stack: Servers,
    prefix: str,
    clock: FrozenClock,
    mailbox: Mailbox,
    producer: AIOKafkaProducer,
    **overrides: Any,
) -> AsyncIterator[Notifier]:
    async with running_service(
        "notifier", stack, prefix=prefix, clock=clock, smtp_port=mailbox.port, **overrides
    ) as service:
        running = Notifier(service, prefix, producer, mailbox, stack)
        yield running
        await running.outbox_drained()


@pytest.fixture(scope="module")
async def notifier(
    stack: Servers, clock: FrozenClock, mailbox: Mailbox, producer: AIOKafkaProducer
) -> AsyncIterator[Notifier]:
    """One notifier for a module's tests (each test has customers and orders of its own)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    async with notifier_running(stack, prefix, clock, mailbox, producer) as running:
        yield running


async def read_topic(stack: Servers, prefix: str) -> list[bytes]:
    """Every message now on the notifier's topic of this test."""
    topic = prefix + NOTIFIER.name
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[bytes] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            found.extend(record.value for records in batch.values() for record in records)
        return found
    finally:
        await consumer.stop()
