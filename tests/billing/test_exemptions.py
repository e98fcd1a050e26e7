"""Staff see who is exempt from dunning and change it over HTTP; every change reaches the
audit journal of the customer's orders, with who made it and why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest

from tests.apps import RunningService, bearer, running_service
from tests.audit.conftest import journal, writer_role
from tests.billing.conftest import STAFF, Billing, cancelled, placed
from tests.helpers import eventually
from tests.stack import Servers

__all__ = ["writer_role"]  # the audit service's login role, a fixture of the audit tests

CUSTOMER = bearer("customer", "erin")
REASON = {"reason": "key account, pays by bank transfer"}


@pytest.fixture
async def audit(
    billing: Billing, stack: Servers, writer_role: str
) -> AsyncIterator[RunningService]:
    """The audit service reading the same topics as the billing under test."""
    async with running_service("audit", stack, prefix=billing.prefix) as service:
        yield service


async def exemptions(billing: Billing, who: dict[str, str] = STAFF) -> Any:
    return await billing.http.get("/dunning-exemptions", headers=who)


async def journaled(audit: RunningService, order_id: UUID) -> list[dict[str, Any]]:
    """The order's journal entries about dunning exemptions, once there are two."""

    async def found() -> list[dict[str, Any]] | None:
        answer = await journal(audit, order_id, order="oldest", limit=200)
        if answer.status_code != 200:
            return None
        entries = [e for e in answer.json()["entries"] if e["type"].startswith("dunning.")]
        return entries if len(entries) == 2 else None

    return await eventually(found, timeout=30)


async def test_staff_list_change_and_journal_a_customers_exemption(
    billing: Billing, audit: RunningService
) -> None:
    live, gone = placed("erin"), placed("erin")
    for event in (live, gone, cancelled(gone.order_id)):
        await billing.send(event)
    await billing.one("invoice.voided", gone.order_id)

    assert (await exemptions(billing)).json() == {"items": [], "count": 0}
    assert (await billing.http.get("/dunning-exemptions/erin", headers=STAFF)).status_code == 404
    granted = await billing.http.put("/dunning-exemptions/erin", json=REASON, headers=STAFF)
    assert granted.status_code == 200, granted.text

    listed = (await exemptions(billing)).json()
    assert listed["count"] == 1
    [one] = listed["items"]
    assert (one["customer_id"], one["reason"], one["exempted_by"]) == (
        "erin",
        REASON["reason"],
        "clerk-1",
    )
    assert (await billing.http.get("/dunning-exemptions/erin", headers=STAFF)).json() == one
    for refused in (
        await exemptions(billing, CUSTOMER),
        await billing.http.delete("/dunning-exemptions/erin", headers=CUSTOMER),
    ):
        assert refused.status_code == 403

    ended = await billing.http.delete("/dunning-exemptions/erin", headers=STAFF)
    assert ended.status_code == 204
    assert (await exemptions(billing)).json()["count"] == 0

    granted_entry, ended_entry = await journaled(audit, live.order_id)
    assert granted_entry["summary"]["en"] == f"Customer exempted from dunning: {REASON['reason']}"
    assert granted_entry["actor"]["kind"] == "staff"
    assert granted_entry["actor"]["id"] == "clerk-1"
    assert ended_entry["summary"]["en"] == "Dunning exemption ended"
    cancelled_journal = await journal(audit, gone.order_id, order="oldest", limit=200)
    types = [e["type"] for e in cancelled_journal.json()["entries"]]
    assert not [t for t in types if t.startswith("dunning.")], "a cancelled order is not told"
