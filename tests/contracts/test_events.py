"""Events travel as JSON and come back as the same model, exactly; bad input is refused."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts import ALL_TOPICS, TOPICS, Money, Topic
from contracts.envelope import Envelope, tag_of
from contracts.export import event_models

EXPECTED_TOPICS = {
    "orders.events",
    "billing.events",
    "notifier.events",
    "payments.events",
    "provisioning.events",
    "abuse.events",
    "monitoring.events",
}


def topic_of(event: Envelope[Any]) -> Topic:
    (topic,) = (t for t in ALL_TOPICS.values() if t.knows(event.type, event.version))
    return topic


def as_dict(event: Envelope[Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(event.model_dump_json())
    return result


def test_the_seven_topics_and_their_dead_letter_topics() -> None:
    assert set(TOPICS) == EXPECTED_TOPICS
    assert TOPICS["orders.events"].dlq == "orders.events.dlq"


def test_every_event_model_has_a_sample(samples: dict[str, Envelope[Any]]) -> None:
    assert {tag_of(type(sample)) for sample in samples.values()} == set(samples)
    assert set(samples) == {tag_of(model) for model in event_models()}


def test_an_event_survives_json_and_parses_into_its_own_model(event: Envelope[Any]) -> None:
    parsed = topic_of(event).parse(event.model_dump_json())
    assert type(parsed) is type(event)
    assert parsed == event


def test_an_event_on_another_topic_is_an_unknown_type_there(event: Envelope[Any]) -> None:
    for topic in ALL_TOPICS.values():
        if topic is topic_of(event):
            continue
        with pytest.raises(ValidationError) as caught:
            topic.parse(event.model_dump_json())
        assert Topic.unknown_tag(caught.value) == f"{event.type}@{event.version}"


def test_an_unknown_type_or_version_raises_and_is_told_apart(event: Envelope[Any]) -> None:
    topic = topic_of(event)
    for change in ({"type": "order.teleported"}, {"version": 99}):
        with pytest.raises(ValidationError) as caught:
            topic.parse(json.dumps(as_dict(event) | change))
        assert Topic.unknown_tag(caught.value) is not None


@pytest.mark.parametrize(
    "raw", ["{not json", "[]", '{"version": 1}', '{"type": 7}', '{"type": "order.placed"}']
)
def test_a_malformed_message_is_not_mistaken_for_an_unknown_type(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TOPICS["orders.events"].parse(raw)
    assert Topic.unknown_tag(caught.value) is None


def test_fields_from_a_newer_producer_are_ignored(event: Envelope[Any]) -> None:
    raw = as_dict(event)
    raw["added_later"] = 1
    raw["data"]["added_later"] = {"x": 1}
    assert topic_of(event).parse(json.dumps(raw)) == event


def test_events_are_immutable(event: Envelope[Any]) -> None:
    with pytest.raises(ValidationError):
        event.producer = "someone else"  # type: ignore[misc]


def test_money_stays_exact_through_json() -> None:
    total = Money(amount=Decimal("0.10") + Decimal("0.20"), currency="EUR")
    raw = total.model_dump_json()
    assert json.loads(raw) == {"amount": "0.30", "currency": "EUR"}
    assert Money.model_validate_json(raw).amount == Decimal("0.30")
    assert Money.model_validate_json('{"amount": "4.10", "currency": "EUR"}').amount == Decimal(
        "4.10"
    )


@pytest.mark.parametrize(
    "amount",
    [0.3, 4, True, "4.001", "-1.00", "1e2", " 4", "NaN", "", "4,00", "\u0664"],
    ids=repr,
)
def test_an_amount_is_only_a_plain_decimal_string(amount: object) -> None:
    with pytest.raises(ValidationError):
        Money.model_validate_json(json.dumps({"amount": amount, "currency": "EUR"}))


def test_a_float_amount_is_refused_in_python_too() -> None:
    with pytest.raises(ValidationError, match="never a number"):
        Money(amount=0.3, currency="EUR")


@pytest.mark.parametrize("currency", ["eur", "EU", "EURO", "E1R", ""])
def test_a_currency_is_an_iso_code(currency: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=Decimal(1), currency=currency)


def test_a_naive_datetime_is_refused(event: Envelope[Any]) -> None:
    raw = as_dict(event) | {"occurred_at": "2025-03-01T12:30:00"}
    with pytest.raises(ValidationError, match="timezone"):
        topic_of(event).parse(json.dumps(raw))
    with pytest.raises(ValidationError, match="timezone"):
        type(event)(**(dict(event) | {"occurred_at": datetime(2025, 3, 1, 12, 30)}))


def test_an_aware_datetime_is_kept_in_utc(event: Envelope[Any]) -> None:
    raw = as_dict(event) | {"occurred_at": "2025-03-01T14:30:00+02:00", "event_id": str(uuid4())}
    parsed = topic_of(event).parse(json.dumps(raw))
    assert parsed.occurred_at.isoformat() == "2025-03-01T12:30:00+00:00"


def test_a_time_with_no_utc_equivalent_is_invalid_not_a_crash(event: Envelope[Any]) -> None:
    raw = as_dict(event) | {"occurred_at": "0001-01-01T00:01:00+00:04"}
    with pytest.raises(ValidationError, match="no UTC equivalent"):
        topic_of(event).parse(json.dumps(raw))
