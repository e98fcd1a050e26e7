"""The journal page: header for every status, filters, keyset paging, staff entries, access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from faststream.kafka import KafkaBroker

from contracts import Envelope, OrderStatus, SuspensionCause
from services.kit.clock import FrozenClock
from tests.apps import RunningService
from tests.audit import events as ev
from tests.audit.conftest import OWNER, STAFF, STRANGER, entry_count, journal, publish, verify

STAFF_BY = {"kind": "staff", "id": "staff-7", "name": "Ola Nowak"}


async def header_after(
    audit: RunningService, kafka: KafkaBroker, prefix: str, event: Envelope[Any], n: int
) -> dict[str, Any]:
    assert event.order_id is not None
    await publish(kafka, prefix, event)
    await entry_count(audit, event.order_id, n)
    header: dict[str, Any] = (await journal(audit, event.order_id)).json()["header"]
    return header


async def test_header_follows_every_status(
    audit: RunningService, kafka: KafkaBroker, prefix: str
) -> None:
    o = uuid4()
    at = [ev.T0 + timedelta(minutes=n) for n in range(12)]
    h = await header_after(audit, kafka, prefix, ev.placed(o, at[0]), 1)
    assert (h["status"], h["customer_name"], h["campaign"]) == (
        "not_processed", "Jan Kowalski", "spring-25",
    )  # fmt: skip
    assert (h["order_id"], h["package"], h["service_name"]) == (str(o), None, "r1z7og44")
    h = await header_after(audit, kafka, prefix, ev.held(o, at[1], OrderStatus.NOT_PROCESSED), 2)
    assert h["status"] == "on_hold"
    assert h["status_details"]["reason"] == "waiting for KYC"
    assert h["status_details"]["held_by"] == STAFF_BY
    assert h["status_details"]["remind_at"].startswith("2025-03-03T09:01")
    h = await header_after(
        audit, kafka, prefix, ev.released(o, at[2], OrderStatus.NOT_PROCESSED), 3
    )
    assert (h["status"], h["status_details"]) == ("not_processed", {})
    h = await header_after(audit, kafka, prefix, ev.accepted(o, at[3]), 4)
    assert h["status"] == "in_progress"
    h = await header_after(audit, kafka, prefix, ev.completed(o, at[4]), 5)
    assert (h["status"], h["package"], h["starts_on"]) == ("processed", "K-2025-001", "2025-03-02")
    assert h["completed_by"] == STAFF_BY
    assert h["completed_at"].startswith("2025-03-01T09:04")
    h = await header_after(audit, kafka, prefix, ev.cancellation_scheduled(o, at[5]), 6)
    assert h["status_details"]["cancels_at"].startswith("2025-04-02")
    h = await header_after(
        audit, kafka, prefix, ev.suspended(o, at[6], SuspensionCause.VIOLATION), 7
    )
    assert (h["status"], h["status_details"]["cause"]) == ("suspended_violation", "violation")
    assert h["status_details"]["cancels_at"].startswith("2025-04-02"), "still scheduled"
    h = await header_after(
        audit, kafka, prefix, ev.reactivated(o, at[7], SuspensionCause.VIOLATION), 8
    )
    assert h["status"] == "processed"
    h = await header_after(
        audit, kafka, prefix, ev.suspended(o, at[8], SuspensionCause.NON_PAYMENT), 9
    )
    assert h["status"] == "suspended_non_payment"
    h = await header_after(audit, kafka, prefix, ev.cancelled(o, at[9]), 10)
    assert h["status"] == "cancelled"
    assert h["status_details"]["reason"] == "customer asked"
    assert h["status_details"]["cancelled_by"] == STAFF_BY
    assert h["status_details"]["cancelled_at"].startswith("2025-03-01T09:09")
    assert (h["package"], h["starts_on"]) == ("K-2025-001", "2025-03-02"), "kept once completed"


async def pages(audit: RunningService, order_id: UUID, **params: Any) -> list[list[int]]:
    """Every page of the journal, as sequence numbers, following the cursors."""
    found: list[list[int]] = []
    cursor = None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = (await journal(audit, order_id, **params, **extra)).json()
        found.append([e["seq"] for e in page["entries"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def test_filters_and_keyset_paging(
    audit: RunningService, kafka: KafkaBroker, prefix: str
) -> None:
    o = uuid4()
    await publish(kafka, prefix, *ev.lifecycle(o))
    entries = await entry_count(audit, o, 9)
    assert [e["type"] for e in entries][:3] == ["order.placed", "order.accepted", "order.held"]
    assert await pages(audit, o, limit=4) == [[9, 8, 7, 6], [5, 4, 3, 2], [1]]
    assert await pages(audit, o, limit=4, order="oldest") == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    held = await pages(audit, o, type=["order.held", "order.released"])
    assert held == [[4, 3]]
    window = {"since": "2025-03-01T09:02:00Z", "until": "2025-03-01T09:05:00Z"}
    assert await pages(audit, o, order="oldest", **window) == [[3, 4, 5]]
    assert await pages(audit, o, kind="staff") == [[]]
    other_order = (await journal(audit, o, order="oldest", limit=1)).json()["next_cursor"]
    refused = await journal(audit, o, cursor=other_order)
    assert refused.status_code == 422


async def test_staff_entries_corrections_and_who_reads_what(
    audit: RunningService, kafka: KafkaBroker, prefix: str, clock: FrozenClock
) -> None:
    o = uuid4()
    await publish(kafka, prefix, ev.placed(o), ev.accepted(o, ev.T0))
    await entry_count(audit, o, 2)
    clock.advance(timedelta(hours=1))
    url = f"/orders/{o}/journal/entries"
    note = {"title": "Called the customer", "details": "No answer", "visible_to_customer": True}
    internal = {"title": "Suspicious", "details": "check the card"}
    first = await audit.http.post(url, json=note, headers={**STAFF, "Idempotency-Key": "k1"})
    again = await audit.http.post(url, json=note, headers={**STAFF, "Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json(), "a retry gives back the first answer"
    assert (await audit.http.post(url, json=internal, headers=STAFF)).status_code == 201
    correction = {"title": "Correction", "details": "they answered later", "corrects": 3}
    fixed = await audit.http.post(url, json=correction, headers=STAFF)
    assert (fixed.json()["seq"], fixed.json()["type"], fixed.json()["corrects"]) == (
        5, "staff.correction", 3,
    )  # fmt: skip
    assert fixed.json()["recorded_at"].startswith("2025-03-01T10:00")
    bad = await audit.http.post(url, json={**correction, "corrects": 9}, headers=STAFF)
    assert bad.status_code == 422
    assert (await audit.http.post(url, json=note, headers=OWNER)).status_code == 403
    unknown = await audit.http.post(f"/orders/{uuid4()}/journal/entries", json=note, headers=STAFF)
    assert unknown.status_code == 404

    staff_view = await pages(audit, o, order="oldest")
    customer_view = await pages(audit, o, order="oldest", who=OWNER)
    assert staff_view == [[1, 2, 3, 4, 5]]
    assert customer_view == [[1, 2, 3]], "system entries and the one staff entry marked visible"
    assert (await pages(audit, o, kind="staff", order="oldest")) == [[3, 4, 5]]
    for path in ("", "/verify", "/export"):
        assert (
            await audit.http.get(f"/orders/{o}/journal{path}", headers=STRANGER)
        ).status_code == 404
        assert (
            await audit.http.get(f"/orders/{o}/journal{path}", headers=OWNER)
        ).status_code == 200
    assert (await audit.http.get(f"/orders/{uuid4()}/journal", headers=STAFF)).status_code == 404
    export = await audit.http.get(f"/orders/{o}/journal/export", headers=OWNER)
    assert len(export.text.splitlines()) == 3
    assert (await verify(audit, o))["entries"] == 5
