"""What an outsider downloads and runs: the public key, the whole journal, the checkpoints
(from the service or from the ``audit.checkpoints`` topic), and ``verify_export``."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from services.audit.outsider import Report, verify_export
from services.audit.signing import load_public_key
from tests.apps import RunningService
from tests.audit import events as ev
from tests.audit.conftest import STAFF, entry_count, publish
from tests.helpers import eventually
from tests.stack import Servers


async def journaled(service: RunningService, kafka: KafkaBroker, prefix: str, n: int) -> list[UUID]:
    """``n`` orders with the nine entries of their life, journaled."""
    orders = [uuid4() for _ in range(n)]
    for order_id in orders:
        await publish(kafka, prefix, *ev.lifecycle(order_id))
    for order_id in orders:
        await entry_count(service, order_id, 9)
    return orders


async def staff_note(
    service: RunningService, order_id: UUID, text: str, **fields: Any
) -> dict[str, Any]:
    answer = await service.http.post(
        f"/orders/{order_id}/journal/entries",
        headers=STAFF,
        json={"title": "Called the customer", "details": text, **fields},
    )
    assert answer.status_code == 201, answer.text
    entry: dict[str, Any] = answer.json()
    return entry


async def redact(service: RunningService, order_id: UUID, seq: int) -> Any:
    return await service.http.post(
        f"/orders/{order_id}/journal/entries/{seq}/redact", headers=STAFF
    )


async def checkpoint(service: RunningService) -> dict[str, Any]:
    answer = await service.http.post("/journal/checkpoints", headers=STAFF)
    assert answer.status_code == 200, answer.text
    made: dict[str, Any] = answer.json()
    return made


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def public_key_pem(service: RunningService) -> str:
    pem: str = (await service.http.get("/journal/public-key")).json()["public_key_pem"]
    return pem


async def exported_journal(service: RunningService) -> list[dict[str, Any]]:
    answer = await service.http.get("/journal/export", headers=STAFF)
    assert answer.status_code == 200, answer.text
    return lines(answer.text)


async def served_checkpoints(service: RunningService) -> list[dict[str, Any]]:
    answer = await service.http.get("/journal/checkpoints/export", headers=STAFF)
    assert answer.status_code == 200, answer.text
    return lines(answer.text)


async def archived_checkpoints(stack: Servers, prefix: str, count: int) -> list[dict[str, Any]]:
    """The checkpoints of ``audit.checkpoints``, as an archive outside the service keeps them."""
    return [event["data"] for event in await archived_events(stack, prefix, count)]


async def archived_events(stack: Servers, prefix: str, count: int) -> list[dict[str, Any]]:
    """The events of ``audit.checkpoints``."""
    consumer = AIOKafkaConsumer(
        prefix + "audit.checkpoints",
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    seen: list[dict[str, Any]] = []

    async def read() -> bool:
        batch = await consumer.getmany(timeout_ms=500)
        seen.extend(json.loads(r.value) for part in batch.values() for r in part)
        return len(seen) >= count

    try:
        await eventually(read)
    finally:
        await consumer.stop()
    return seen


async def verify(service: RunningService, checkpoints: list[dict[str, Any]], pem: str) -> Report:
    """``verify_export`` over what the service exports now, against ``checkpoints``."""
    return verify_export(await exported_journal(service), checkpoints, load_public_key(pem))


async def verify_command(
    folder: Path, journal: list[dict[str, Any]], checkpoints: list[dict[str, Any]], pem: str
) -> tuple[int, list[str]]:
    """``python -m services.audit.verify_export`` on files, as an outsider runs it."""
    files = {"journal": journal, "checkpoints": checkpoints}
    for name, content in files.items():
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in content))
    (folder / "key.pem").write_text(pem)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.audit.verify_export",
        "--public-key", str(folder / "key.pem"),
        "--journal", str(folder / "journal.jsonl"),
        "--checkpoints", str(folder / "checkpoints.jsonl"),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode().splitlines()
