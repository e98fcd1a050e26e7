"""Each metric the services export, read from their ``/metrics`` after real activity: an
order placed, a malformed message dead-lettered, jobs run (one failing), mail tried."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from opentelemetry.trace import StatusCode

from contracts import ORDERS
from services.billing.jobs import RENEWALS
from services.kit.db import UnitOfWork
from services.notifier.jobs import SEND_MAIL
from tests.apps import bearer
from tests.helpers import eventually
from tests.observability.conftest import SERVICES, Platform

CUSTOMER = bearer("customer", "c-metrics", name="Mia", email="mia@example.com")


def value(samples: list[tuple[dict[str, str], float]], **labels: str) -> float | None:
    """The value of the sample with these labels (among others), or None."""
    for found, number in samples:
        if labels.items() <= found.items():
            return number
    return None


async def place_order(platform: Platform) -> str:
    response = await platform.services["orders"].http.post(
        "/orders",
        json={"plan": "vps-s", "period_months": 1},
        headers={**CUSTOMER, "Idempotency-Key": str(uuid4())},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_outbox_backlog_and_consumer_lag_come_down_to_zero(platform: Platform) -> None:
    await place_order(platform)
    topic = platform.prefix + ORDERS.name

    async def caught_up() -> bool:
        orders = await platform.scrape("orders")
        billing = await platform.scrape("billing")
        lags = [
            number for labels, number in billing.get("consumer_lag", []) if labels["topic"] == topic
        ]
        return (
            orders["outbox_backlog"][0][1] == 0
            and orders["outbox_oldest_age_seconds"][0][1] == 0
            and bool(lags)
            and all(lag == 0 for lag in lags)
        )

    await eventually(caught_up, timeout=60)
    billing = await platform.scrape("billing")
    partitions = {labels["partition"] for labels, _ in billing["consumer_lag"]}
    assert partitions <= {"0", "1", "2", "3"}
    assert value(billing["consumer_lag"], consumer="billing", topic=topic) == 0


async def test_a_dead_letter_is_counted_by_each_consumer_that_sent_it(platform: Platform) -> None:
    topic = platform.prefix + ORDERS.name
    await platform.services["orders"].runtime.broker.publish(
        b"{not json", topic=topic, key=str(uuid4()).encode()
    )

    async def counted(service: str) -> float | None:
        samples = (await platform.scrape(service)).get("dlq_messages_total", [])
        return value(samples, consumer=service, topic=topic, kind="invalid")

    for service in ("billing", "audit", "notifier"):
        assert await eventually(lambda service=service: counted(service), timeout=60) == 1


async def test_job_runs_and_failures_are_counted(platform: Platform) -> None:
    billing = platform.services["billing"].runtime

    async def fails(work: UnitOfWork, now: datetime) -> int:
        raise RuntimeError("this job always fails")

    billing.jobs.add("always-fails", timedelta(hours=1), fails)
    await billing.jobs.run_once(RENEWALS)
    await billing.jobs.run_once(RENEWALS)
    with pytest.raises(RuntimeError, match="always fails"):
        await billing.jobs.run_once("always-fails")

    samples = await platform.scrape("billing")
    assert value(samples["job_runs_total"], job=RENEWALS) == 2
    assert value(samples["job_failures_total"], job=RENEWALS) is None
    assert value(samples["job_runs_total"], job="always-fails") == 1
    assert value(samples["job_failures_total"], job="always-fails") == 1


async def test_mails_queued_and_failed_tries(platform: Platform) -> None:
    order_id = await place_order(platform)
    response = await platform.services["orders"].http.post(
        f"/orders/{order_id}/cancel", json={"reason": "changed my mind"}, headers=CUSTOMER
    )
    assert response.status_code == 200, response.text  # the cancellation is mailed

    async def queued() -> float:
        return (await platform.scrape("notifier"))["notifier_mails_queued"][0][1]

    waiting = await eventually(queued, timeout=60)
    assert waiting >= 1
    await platform.services["notifier"].runtime.jobs.run_once(SEND_MAIL)

    samples = await platform.scrape("notifier")
    assert samples["notifier_mail_tries_failed_total"][0][1] >= 1, "nothing listens on port 9"
    assert samples["notifier_mails_sent_total"][0][1] == 0
    assert samples["notifier_mails_failed_total"][0][1] == 0, "a failed try is retried first"
    assert samples["notifier_mails_queued"][0][1] >= waiting, "still waiting for a retry"
    tries = [span for span in platform.spans.get_finished_spans() if span.name == "smtp send"]
    assert tries, "each try to send a mail is a span"
    assert tries[-1].resource.attributes["service.name"] == "notifier"
    assert tries[-1].status.status_code is StatusCode.ERROR
    assert (tries[-1].attributes or {}).get("server.port") == 9


@pytest.mark.parametrize("service", SERVICES)
async def test_pool_and_process_metrics(platform: Platform, service: str) -> None:
    samples = await platform.scrape(service)
    pool = platform.services[service].runtime.database.engine.sync_engine.pool
    assert samples["db_pool_size"][0][1] == pool.size() > 0  # type: ignore[attr-defined]
    assert 0 <= samples["db_pool_checked_out"][0][1] <= 2 * pool.size()  # type: ignore[attr-defined]
    assert samples["process_resident_memory_bytes"][0][1] > 0
    assert samples["process_open_fds"][0][1] > 0
    assert value(samples["python_info"], implementation="CPython") == 1
