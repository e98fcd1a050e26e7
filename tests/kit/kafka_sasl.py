"""A Kafka node of the test's own with a SASL_SSL listener (SCRAM-SHA-512 and PLAIN) whose
certificate the test makes, as managed Kafka offers it. Its PLAINTEXT listener is the broker's
own (inter-broker and controller); the tests' clients use the SASL_SSL one only."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploy import infra
from tests.tls import Authority, free_port

SCRAM_USER, SCRAM_PASSWORD = "orders-scram", "scram-secret-for-tests"
PLAIN_USER, PLAIN_PASSWORD = "orders-plain", "plain-secret-for-tests"


@dataclass(frozen=True)
class SaslKafka:
    bootstrap: str
    trusted_ca: Path
    other_ca: Path


def _two_free_ports() -> int:
    """A port whose next one is free too (the node's controller listens there)."""
    while True:
        port = free_port()
        if port < 65535 and not infra.port_taken(port + 1):
            return port


@contextlib.contextmanager
def sasl_kafka() -> Iterator[SaslKafka]:
    folder = Path(tempfile.mkdtemp(prefix="kafka-sasl-"))
    authority = Authority.create("kafka-ca")
    server = authority.issue()
    keystore = folder / "keystore.pem"
    # Kafka's PEM keystore: the private key, then the certificate chain.
    keystore.write_bytes(server.key_pem + server.cert_pem + authority.cert_pem)
    port, sasl_port = _two_free_ports(), free_port()
    plain_users = f'user_{PLAIN_USER}="{PLAIN_PASSWORD}"'
    kafka = infra.Kafka(
        folder / "node",
        port,
        heap="384m",
        scram=(f"SCRAM-SHA-512=[name={SCRAM_USER},password={SCRAM_PASSWORD}]",),
        settings={
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1},"
            f"SASL_SSL://127.0.0.1:{sasl_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port},"
            f"SASL_SSL://127.0.0.1:{sasl_port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,"
            "SASL_SSL:SASL_SSL",
            "inter.broker.listener.name": "PLAINTEXT",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "listener.name.sasl_ssl.plain.sasl.jaas.config": (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(keystore),
        },
    )
    process = kafka.start(log=folder / "kafka.log")
    try:
        infra.wait_for_port(sasl_port, 60, process)
        yield SaslKafka(
            f"127.0.0.1:{sasl_port}",
            authority.write(folder),
            Authority.create("other").write(folder),
        )
    finally:
        infra.stop(process)
        shutil.rmtree(folder, ignore_errors=True)
