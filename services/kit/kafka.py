"""The Kafka side every service shares: how it connects (plaintext locally, SASL_SSL or SSL
to a managed cluster), its broker (an idempotent producer) and its topics."""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import create_conn as aiokafka_connection
from aiokafka.errors import TopicAlreadyExistsError, for_code
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

#: Partitions of every event topic; an order's events share one partition by key.
EVENT_PARTITIONS = 4
#: Dead-letter topics are read by people and the replay command, not for throughput.
DLQ_PARTITIONS = 1


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


@dataclass(frozen=True)
class KafkaConnection:
    """Where the cluster is and how to reach it; every client of a process (the broker, the
    topic set-up, the DLQ replay) connects with the same one."""

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    username: str | None = None
    password: str | None = None
    #: The CA certificate the brokers' certificates must chain to; the system's when None.
    ca_file: Path | None = None

    def security(self) -> BaseSecurity | None:
        """FastStream's description of it (also shown in the AsyncAPI document)."""
        if self.security_protocol == "PLAINTEXT":
            return None
        # Verifies the broker's certificate and its name: no unencrypted or unverified fallback.
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.security_protocol == "SSL":
            return BaseSecurity(ssl_context=context, use_ssl=True)
        if self.sasl_mechanism is None or self.username is None or self.password is None:
            raise ValueError("SASL_SSL needs a mechanism, a username and a password")
        sasl = _SASL[self.sasl_mechanism]
        return sasl(self.username, self.password, ssl_context=context, use_ssl=True)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of an aiokafka client (producer, consumer, admin)."""
        return {"bootstrap_servers": self.bootstrap_servers, **parse_security(self.security())}

    async def diagnose(self) -> None:
        """Raise why the first broker refuses us (a certificate not trusted, a login refused,
        nothing listening); aiokafka's clients only say they could not bootstrap."""
        host, _, port = self.bootstrap_servers.split(",")[0].strip().rpartition(":")
        options = parse_security(self.security())
        connection = await aiokafka_connection(
            host, int(port), request_timeout_ms=5_000, client_id="diagnose", **options
        )
        connection.close()


def _connection(kafka: KafkaConnection | str) -> KafkaConnection:
    return kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(kafka)


def make_broker(kafka: KafkaConnection | str, *, client_id: str) -> KafkaBroker:
    """A broker whose producer is idempotent (acks=all) and that never auto-commits."""
    connection = _connection(kafka)
    return KafkaBroker(
        connection.bootstrap_servers,
        security=connection.security(),
        client_id=client_id,
        enable_idempotence=True,
        request_timeout_ms=15_000,
        logger=logging.getLogger(f"{client_id}.kafka"),
        # FastStream logs every message received and processed; that is debug detail here.
        log_level=logging.DEBUG,
    )


async def ensure_topics(
    kafka: KafkaConnection | str,
    names: Iterable[str],
    *,
    partitions: int = EVENT_PARTITIONS,
    replication_factor: int = 1,
) -> None:
    """Create each event topic and its ``.dlq`` twin with explicit partition counts, once
    (an existing topic is left as it is)."""
    admin = AIOKafkaAdminClient(**_connection(kafka).client_options(), client_id="topic-setup")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = []
        for name in names:
            for topic, count in ((name, partitions), (f"{name}.dlq", DLQ_PARTITIONS)):
                if topic not in existing:
                    wanted.append(NewTopic(topic, count, replication_factor=replication_factor))
        for topic in wanted:
            # Another service may create it in the meantime.
            with contextlib.suppress(TopicAlreadyExistsError):
                _raise_refusal(await admin.create_topics([topic]))
    finally:
        await admin.close()


def _raise_refusal(response: Any) -> None:
    """The admin client returns a refused creation (too many replicas for the cluster, not
    allowed) in its answer instead of raising it."""
    for topic, code, message, *_ in response.topic_errors:
        if code:
            raise for_code(code)(f"topic {topic}: {message}")
