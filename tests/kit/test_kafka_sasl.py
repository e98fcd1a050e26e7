"""Kafka over SASL_SSL (SCRAM-SHA-512 and PLAIN) with a CA file, set by configuration only,
against a node of the test's own whose certificate the test makes: the topics are created with
the configured partitions and replication factor, the orders service is ready and its outbox
reaches the topic; a wrong password or an untrusted certificate is named, never bypassed."""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import InvalidReplicationFactorError, SaslAuthenticationFailed

from services.kit.migrations import upgrade
from services.kit.service import wait_for_topics
from services.orders.app import create_app
from services.orders.settings import OrdersSettings
from tests.apps import ROOT, bearer
from tests.kit.kafka_sasl import (
    PLAIN_PASSWORD,
    PLAIN_USER,
    SCRAM_PASSWORD,
    SCRAM_USER,
    SaslKafka,
    sasl_kafka,
)
from tests.stack import Servers

LOGINS = {"SCRAM-SHA-512": (SCRAM_USER, SCRAM_PASSWORD), "PLAIN": (PLAIN_USER, PLAIN_PASSWORD)}

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def kafka() -> Iterator[SaslKafka]:
    with sasl_kafka() as node:
        yield node


def _settings(kafka: SaslKafka, mechanism: str, **changes: Any) -> OrdersSettings:
    username, password = LOGINS[mechanism]
    values: dict[str, Any] = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": mechanism,
        "KAFKA_SASL_USERNAME": username,
        "KAFKA_SASL_PASSWORD": password,
        "KAFKA_SSL_CA_FILE": kafka.trusted_ca,
        "KAFKA_TOPIC_PREFIX": f"{mechanism.lower()}-{uuid.uuid4().hex[:6]}.",
        "KAFKA_TOPIC_PARTITIONS": 3,
        "run_jobs": False,
    }
    return OrdersSettings(**(values | changes))


async def _partitions(settings: OrdersSettings, topic: str) -> int:
    admin = AIOKafkaAdminClient(**settings.kafka().client_options())
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
        return len(description["partitions"])
    finally:
        await admin.close()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
async def test_the_orders_service_works_over_sasl_ssl(
    kafka: SaslKafka, stack: Servers, unique: str, mechanism: str
) -> None:
    url = await stack.create_database(f"orders_sasl_{unique}")
    await asyncio.to_thread(upgrade, ROOT / "services" / "orders", url)
    settings = _settings(kafka, mechanism, database_url=url)
    await asyncio.to_thread(wait_for_topics, settings, 60)
    topic = settings.kafka_topic_prefix + "orders.events"
    assert await _partitions(settings, topic) == 3
    assert await _partitions(settings, topic + ".dlq") == 1

    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        placed = await http.post(
            "/orders",
            json={"plan": "vps-s", "period_months": 1},
            headers=bearer("customer", f"c-{unique}"),
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        consumer = AIOKafkaConsumer(
            topic, **settings.kafka().client_options(), auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=30_000)
            events = [json.loads(m.value) for ms in batch.values() for m in ms]
        finally:
            await consumer.stop()
    assert any(event["order_id"] == order_id for event in events), events


async def test_the_replication_factor_is_the_configured_one(kafka: SaslKafka) -> None:
    # One node cannot hold two replicas: the setting reached the topic creation.
    settings = _settings(kafka, "PLAIN", KAFKA_TOPIC_REPLICATION_FACTOR=2)
    with pytest.raises(InvalidReplicationFactorError):
        await asyncio.to_thread(wait_for_topics, settings, 0)


async def test_a_wrong_password_is_named(kafka: SaslKafka) -> None:
    settings = _settings(kafka, "SCRAM-SHA-512", KAFKA_SASL_PASSWORD="wrong")
    with pytest.raises(SaslAuthenticationFailed, match="invalid credentials"):
        await settings.kafka().diagnose()
    with pytest.raises(SaslAuthenticationFailed, match="invalid credentials"):
        await asyncio.to_thread(wait_for_topics, settings, 0)


async def test_an_untrusted_certificate_is_named(kafka: SaslKafka) -> None:
    settings = _settings(kafka, "PLAIN", KAFKA_SSL_CA_FILE=kafka.other_ca)
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        await asyncio.to_thread(wait_for_topics, settings, 0)


def test_a_login_is_never_sent_in_plaintext(kafka: SaslKafka) -> None:
    with pytest.raises(ValueError, match="only over KAFKA_SECURITY_PROTOCOL=SASL_SSL"):
        _settings(kafka, "PLAIN", KAFKA_SECURITY_PROTOCOL="PLAINTEXT")
