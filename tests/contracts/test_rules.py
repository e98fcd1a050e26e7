"""The rules a single event enforces on itself, whoever produced it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from contracts import ALL_TOPICS
from contracts.envelope import Envelope

Change = Callable[[dict[str, Any]], None]


def refused(event: Envelope[Any], change: Change, message: str) -> None:
    raw: dict[str, Any] = json.loads(event.model_dump_json())
    change(raw)
    topic = next(t for t in ALL_TOPICS.values() if t.knows(event.type, event.version))
    with pytest.raises(ValidationError, match=message):
        topic.parse(json.dumps(raw))


def first_order_moved(raw: dict[str, Any]) -> None:
    raw["order_id"] = "00000000-0000-4000-8000-0000000000ff"


@pytest.mark.parametrize(
    "tag",
    [
        "order.renewal_requested@1",
        "invoice.issued@1",
        "invoice.paid@1",
        "invoice.overdue@1",
        "invoice.reminder_due@1",
    ],
)
def test_an_event_about_several_orders_is_keyed_by_the_first(
    samples: dict[str, Envelope[Any]], tag: str
) -> None:
    refused(samples[tag], first_order_moved, "first order")


def test_a_renewal_is_in_one_currency(samples: dict[str, Envelope[Any]]) -> None:
    def mixed(raw: dict[str, Any]) -> None:
        raw["data"]["items"][1]["price"]["currency"] = "USD"

    refused(samples["order.renewal_requested@1"], mixed, "one currency")


def test_a_renewal_names_each_order_once(samples: dict[str, Envelope[Any]]) -> None:
    def twice(raw: dict[str, Any]) -> None:
        raw["data"]["items"][1]["order_id"] = raw["order_id"]

    refused(samples["order.renewal_requested@1"], twice, "once")


def test_a_renewal_has_an_item(samples: dict[str, Envelope[Any]]) -> None:
    def empty(raw: dict[str, Any]) -> None:
        raw["data"]["items"] = []

    refused(samples["order.renewal_requested@1"], empty, "at least 1 item")


def test_an_invoice_total_is_the_exact_sum_of_its_lines(
    samples: dict[str, Envelope[Any]],
) -> None:
    def off_by_a_cent(raw: dict[str, Any]) -> None:
        raw["data"]["total"]["amount"] = "0.31"

    refused(samples["invoice.issued@1"], off_by_a_cent, "sum of the lines")


def test_an_initial_invoice_has_no_renewal(samples: dict[str, Envelope[Any]]) -> None:
    def initial(raw: dict[str, Any]) -> None:
        raw["data"]["kind"] = "initial"

    refused(samples["invoice.paid@1"], initial, "renewal_id")


def test_an_invoice_is_not_due_before_it_is_issued(samples: dict[str, Envelope[Any]]) -> None:
    def early(raw: dict[str, Any]) -> None:
        raw["data"]["due_on"] = "2025-02-28"

    refused(samples["invoice.issued@1"], early, "due_on")


@pytest.mark.parametrize(
    ("tag", "field"), [("order.held@1", "held_from"), ("order.released@1", "back_to")]
)
def test_only_a_pending_order_is_held_or_released(
    samples: dict[str, Envelope[Any]], tag: str, field: str
) -> None:
    def processed(raw: dict[str, Any]) -> None:
        raw["data"][field] = "processed"

    refused(samples[tag], processed, "pending")


def test_a_non_payment_suspension_names_the_invoice(samples: dict[str, Envelope[Any]]) -> None:
    def no_invoice(raw: dict[str, Any]) -> None:
        raw["data"]["invoice_id"] = None

    refused(samples["order.suspended@1"], no_invoice, "invoice_id")


def test_a_flagged_payment_says_why(samples: dict[str, Envelope[Any]]) -> None:
    def no_reason(raw: dict[str, Any]) -> None:
        raw["data"]["flag_reason"] = None

    refused(samples["payment.recorded@1"], no_reason, "flag_reason")


def test_an_incident_names_an_order_or_an_ip(samples: dict[str, Envelope[Any]]) -> None:
    def neither(raw: dict[str, Any]) -> None:
        raw["order_id"] = None
        raw["data"]["main_ip"] = None

    refused(samples["incident.opened@1"], neither, "main_ip")


def test_an_event_about_an_order_requires_its_id(samples: dict[str, Envelope[Any]]) -> None:
    def no_order(raw: dict[str, Any]) -> None:
        del raw["order_id"]

    for tag in ("order.placed@1", "service.delivered@1", "violation.confirmed@1"):
        refused(samples[tag], no_order, "order_id")
