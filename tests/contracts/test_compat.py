"""`breaking_changes`: what may change in an event's schema within one version."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from contracts.compat import breaking_changes
from contracts.export import event_models, schema_of


def schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation")


class Plan(BaseModel):
    name: str
    months: int


class V1(BaseModel):
    order_id: str
    plan: Plan
    note: str | None = None


def test_an_identical_schema_has_no_breaking_change() -> None:
    assert breaking_changes(schema(V1), schema(V1)) == []


@pytest.mark.parametrize("model", event_models(), ids=lambda model: model.__name__)
def test_every_event_schema_is_compatible_with_itself(model: Any) -> None:
    assert breaking_changes(schema_of(model), schema_of(model)) == []


def test_a_new_optional_field_is_accepted() -> None:
    class V2(V1):
        campaign: str | None = None

    assert breaking_changes(schema(V1), schema(V2)) == []


def test_documentation_and_model_names_may_change() -> None:
    class Tariff(BaseModel):
        """A renamed model with the same shape."""

        name: str = Field(description="the plan's name")
        months: int

    class V2(BaseModel):
        """Now documented."""

        order_id: str = Field(title="Order", examples=["o-1"])
        plan: Tariff
        note: str | None = None

    assert breaking_changes(schema(V1), schema(V2)) == []


def test_a_removed_field_is_caught() -> None:
    class V2(BaseModel):
        order_id: str
        plan: Plan

    assert breaking_changes(schema(V1), schema(V2)) == ["$.note: property removed"]


def test_a_new_required_field_is_caught() -> None:
    class V2(V1):
        campaign: str

    assert breaking_changes(schema(V1), schema(V2)) == ["$.campaign: newly required"]


def test_an_optional_field_made_required_is_caught() -> None:
    class V2(V1):
        note: str | None

    assert breaking_changes(schema(V1), schema(V2)) == ["$.note: newly required"]


def test_a_changed_type_is_caught_also_inside_a_referenced_model() -> None:
    class Plan2(BaseModel):
        name: str
        months: str

    class V2(V1):
        plan: Plan2  # type: ignore[assignment]

    assert breaking_changes(schema(V1), schema(V2)) == [
        "$.plan.months: type changed from 'integer' to 'string'"
    ]


def test_a_field_made_nullable_is_caught() -> None:
    class V2(V1):
        order_id: str | None  # type: ignore[assignment]

    problems = breaking_changes(schema(V1), schema(V2))
    assert problems == ["$.order_id: type option {'type': 'null'} added"]


def test_a_changed_format_is_caught() -> None:
    old = {"properties": {"at": {"type": "string", "format": "date"}}}
    new = {"properties": {"at": {"type": "string", "format": "date-time"}}}
    assert breaking_changes(old, new) == ["$.at: format changed from 'date' to 'date-time'"]


class Cause(StrEnum):
    VIOLATION = "violation"
    NON_PAYMENT = "non_payment"


class Fewer(StrEnum):
    VIOLATION = "violation"


class More(StrEnum):
    VIOLATION = "violation"
    NON_PAYMENT = "non_payment"
    FRAUD = "fraud"


class Suspension(BaseModel):
    cause: Cause


def test_a_removed_enum_value_is_caught() -> None:
    class V2(BaseModel):
        cause: Fewer

    assert breaking_changes(schema(Suspension), schema(V2)) == [
        "$.cause: enum value 'non_payment' removed"
    ]


def test_an_added_enum_value_is_caught_because_old_consumers_refuse_it() -> None:
    class V2(BaseModel):
        cause: More

    assert breaking_changes(schema(Suspension), schema(V2)) == ["$.cause: enum value 'fraud' added"]


def test_a_changed_constant_and_list_item_type_are_caught() -> None:
    class Old(BaseModel):
        type: Literal["order.placed"] = "order.placed"
        ids: list[int]

    class New(BaseModel):
        type: Literal["order.held"] = "order.held"
        ids: list[str]

    assert breaking_changes(schema(Old), schema(New)) == [
        "$.type: const changed from 'order.placed' to 'order.held'",
        "$.ids[]: type changed from 'integer' to 'string'",
    ]


def test_a_changed_constraint_is_caught() -> None:
    class Old(BaseModel):
        reason: str = Field(max_length=2000)

    class New(BaseModel):
        reason: str = Field(max_length=200)

    assert breaking_changes(schema(Old), schema(New)) == [
        "$.reason: maxLength changed from 2000 to 200"
    ]


class Node(BaseModel):
    name: str
    children: list[Node] = []


def test_recursive_models_terminate() -> None:
    class Node2(BaseModel):
        name: int
        children: list[Node2] = []

    assert breaking_changes(schema(Node), schema(Node)) == []
    assert breaking_changes(schema(Node), schema(Node2)) == [
        "$.name: type changed from 'string' to 'integer'"
    ]
