"""The envelope every message on every topic travels in, and the value types events share."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, Self, TypeVar, Union
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    EmailStr,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

_AMOUNT_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")


def _decimal_string_only(value: object) -> object:
    # A JSON number goes through a binary float on many stacks, so money never travels as one.
    if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value):
        raise ValueError('an amount is a plain decimal string such as "4.00"')
    if not isinstance(value, str | Decimal):
        raise ValueError(
            'an amount is a decimal string such as "4.00" (or a Decimal), never a number'
        )
    return value


def _without_negative_zero(value: Decimal) -> Decimal:
    return value + 0  # Decimal("-0") + 0 is Decimal("0"); every other value keeps its exponent


#: Exact, non-negative amount of money as it travels: a decimal string, never a JSON number.
Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_string_only),
    Field(max_digits=14, decimal_places=2, ge=0),
    AfterValidator(_without_negative_zero),
    PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "examples": ["4.00"]}),
]


#: ISO 4217 alphabetic currency code.
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00: before the first UTC time there is
        raise ValueError("the time has no UTC equivalent") from None


#: A point in time with its offset, normalised to UTC; naive datetimes and times with no UTC
#: equivalent are refused.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

#: A name, handle or identifier chosen outside this system (1 to 200 characters).
ShortText = Annotated[str, Field(min_length=1, max_length=200)]

#: Free text written by a person: a reason, a comment, a note (1 to 2000 characters).
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class Contract(BaseModel):
    """Base of every contract model: immutable; unknown fields from newer producers are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)


class Money(Contract):
    """An exact amount in one currency (e.g. 4.00 EUR)."""

    amount: Amount
    """Decimal string, at most two decimal places, e.g. "4.00"."""
    currency: Currency
    """ISO 4217 code, e.g. EUR."""


def single_currency(amounts: Iterable[Money]) -> str:
    """The one currency all these amounts share; raises ValueError if they mix currencies."""
    currencies = {money.currency for money in amounts}
    if len(currencies) != 1:
        raise ValueError(f"amounts must share one currency, got {sorted(currencies)}")
    return currencies.pop()


class ActorKind(StrEnum):
    """Who caused an event."""

    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"
    SERVICE = "service"


class Actor(Contract):
    """The person or service that acted: recorded on every event."""

    kind: ActorKind
    id: ShortText
    """The customer's or staff member's subject, or the service's name."""
    name: ShortText
    """Display name at the time of the event."""


SYSTEM_ACTOR = Actor(kind=ActorKind.SYSTEM, id="system", name="System")


class Customer(Contract):
    """The customer an order belongs to, as other services need to address them."""

    id: ShortText
    """The customer's subject (as in their access token)."""
    name: ShortText
    """Display name."""
    email: EmailStr
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    """Language for messages to the customer, e.g. ``de`` or ``pl``."""


DataT = TypeVar("DataT", bound=BaseModel)


def _type_is_required(schema: dict[str, Any]) -> None:
    # `type` has a default in each model, but a message without it cannot be told apart.
    schema["required"] = ["type", *schema.get("required", [])]


class Envelope(Contract, Generic[DataT]):
    """Common fields of every event; `type` and `version` pick the model of `data`."""

    model_config = ConfigDict(json_schema_extra=_type_is_required)

    event_id: UUID = Field(default_factory=uuid4)
    """Unique id of this event; consumers deduplicate on it."""
    type: str
    """Event type, e.g. ``order.placed``."""
    version: int = 1
    """Version of the event type; a breaking change is a new version."""
    occurred_at: UtcDatetime
    """When it happened (UTC)."""
    producer: ShortText
    """The service that published the event, e.g. ``orders``."""
    correlation_id: UUID
    """Shared by every event that follows from one request or one outside event."""
    causation_id: UUID | None = None
    """The event_id of the event that caused this one, if any."""
    actor: Actor
    """Who acted (the customer, a staff member, the system or a service)."""
    order_id: UUID | None = None
    """The order the event concerns; also the Kafka key, so one order's events stay in order."""
    data: DataT
    """The fields specific to the event type."""


class MultiOrderData(Contract):
    """Data of an event that concerns one or more orders, listed in a fixed order."""

    @property
    @abstractmethod
    def concerned_order_ids(self) -> Sequence[UUID]:
        """The orders concerned, first one first."""


MultiT = TypeVar("MultiT", bound=MultiOrderData)


class MultiOrderEvent(Envelope[MultiT], Generic[MultiT]):
    """An event about several orders: keyed (``order_id``) by the first of them."""

    order_id: UUID
    """The first order the event concerns (Kafka key); the data lists all of them."""

    @model_validator(mode="after")
    def _keyed_by_first_order(self) -> Self:
        if self.order_id != self.data.concerned_order_ids[0]:
            raise ValueError("order_id must be the first order the event's data lists")
        return self


def tag_of(model: type[Envelope[Any]]) -> str:
    """The union tag of an event model: its type and version, e.g. ``order.placed@1``."""
    fields = model.model_fields
    return f"{fields['type'].default}@{fields['version'].default}"


def _tag_of_message(value: Any) -> str | None:
    if isinstance(value, Envelope):
        return f"{value.type}@{value.version}"
    if not isinstance(value, dict):
        return None
    type_, version = value.get("type"), value.get("version", 1)
    if not isinstance(type_, str) or not isinstance(version, int) or isinstance(version, bool):
        return None  # no usable type: malformed, not merely unknown
    return f"{type_}@{version}"


class Topic:
    """A Kafka topic and the event models that may travel on it, parsed as one tagged union."""

    def __init__(self, name: str, *models: type[Envelope[Any]]) -> None:
        self.name = name
        self.dlq = f"{name}.dlq"
        self.models: dict[str, type[Envelope[Any]]] = {tag_of(model): model for model in models}
        if len(self.models) != len(models):
            raise ValueError(f"{name}: two models share a type and version")
        # The union is built at run time, so its static type can only be Any.
        tagged = tuple(Annotated[model, Tag(tag)] for tag, model in self.models.items())
        union: Any = Annotated[Union[tagged], Discriminator(_tag_of_message)]  # noqa: UP007
        self.adapter: TypeAdapter[Envelope[Any]] = TypeAdapter(union)

    def __repr__(self) -> str:
        return f"Topic({self.name!r}, {', '.join(self.models)})"

    def parse(self, raw: bytes | str) -> Envelope[Any]:
        """Parse one message of this topic into its exact event model (raises ValidationError)."""
        return self.adapter.validate_json(raw)

    def knows(self, type_: str, version: int) -> bool:
        """Whether the contracts define this event type and version on this topic."""
        return f"{type_}@{version}" in self.models

    @staticmethod
    def unknown_tag(error: ValidationError) -> str | None:
        """The ``type@version`` of a well-formed message whose type this topic does not define.

        Tells the two failures of `parse` apart: an unknown type (returns its tag: skip and count
        it) from a malformed or invalid message (returns None: dead-letter it).
        """
        errors = error.errors()
        if len(errors) == 1 and errors[0]["type"] == "union_tag_invalid" and not errors[0]["loc"]:
            return str(errors[0]["ctx"]["tag"])
        return None
