"""The Kafka side every service shares: its broker (an idempotent producer) and its topics."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

#: Partitions of every event topic; an order's events share one partition by key.
EVENT_PARTITIONS = 4
#: Dead-letter topics are read by people and the replay command, not for throughput.
DLQ_PARTITIONS = 1


def make_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """A broker whose producer is idempotent (acks=all) and that never auto-commits."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        request_timeout_ms=15_000,
        logger=logging.getLogger(f"{client_id}.kafka"),
        # FastStream logs every message received and processed; that is debug detail here.
        log_level=logging.DEBUG,
    )


async def ensure_topics(bootstrap_servers: str, names: Iterable[str]) -> None:
    """Create each event topic and its ``.dlq`` twin with explicit partition counts, once."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="topic-setup")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = []
        for name in names:
            for topic, partitions in ((name, EVENT_PARTITIONS), (f"{name}.dlq", DLQ_PARTITIONS)):
                if topic not in existing:
                    wanted.append(NewTopic(topic, partitions, replication_factor=1))
        for topic in wanted:
            # Another service may create it in the meantime.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([topic])
    finally:
        await admin.close()
