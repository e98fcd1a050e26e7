"""Fixtures of the kit tests: a probe database and a probe topic on the real servers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from faststream.kafka import KafkaBroker

from contracts.envelope import Topic
from services.kit.db import Database
from services.kit.kafka import ensure_topics, make_broker
from tests.kit.probe import Probe, create_schema
from tests.stack import Servers


@dataclass
class ProbeSetup:
    url: str
    topic: Topic
    bootstrap: str
    database: Database


@pytest.fixture
async def kit(stack: Servers, unique: str) -> AsyncIterator[ProbeSetup]:
    url = await stack.create_database(f"probe_{unique}")
    await create_schema(url)
    topic = Topic(f"probe-{unique}.events", Probe)
    await ensure_topics(stack.kafka_bootstrap, [topic.name])
    database = Database(url, producer="probe", topic=topic.name)
    yield ProbeSetup(url, topic, stack.kafka_bootstrap, database)
    await database.dispose()


@pytest.fixture
async def broker(stack: Servers) -> AsyncIterator[KafkaBroker]:
    kafka = make_broker(stack.kafka_bootstrap, client_id="probe-test")
    await kafka.connect()
    yield kafka
    await kafka.stop()


class ProbeProcess:
    """A probe process (consumer or relay) that a test can kill."""

    def __init__(self, setup: ProbeSetup, mode: str, group: str = "probe", *extra: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.kit.probe",
                mode,
                "--url",
                setup.url,
                "--bootstrap",
                setup.bootstrap,
                "--topic",
                setup.topic.name,
                "--group",
                group,
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)


@pytest.fixture
def processes() -> Iterator[list[ProbeProcess]]:
    started: list[ProbeProcess] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.kill()
