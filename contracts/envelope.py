"""The envelope every message on every topic travels in, and the value types events share."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar, Union
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
)

#: Exact amount of money as it travels: a decimal string, never a float.
Amount = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2, ge=0),
    PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json"),
]


def _is_currency(code: str) -> str:
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise ValueError("currency must be an ISO 4217 code of three capital letters, e.g. EUR")
    return code


#: ISO 4217 alphabetic currency code.
Currency = Annotated[str, AfterValidator(_is_currency)]


class Contract(BaseModel):
    """Base of every contract model: immutable, strict about unknown fields' shape."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Money(Contract):
    """An exact amount in one currency (e.g. 4.00 EUR)."""

    amount: Amount
    currency: Currency


class ActorKind(StrEnum):
    """Who caused an event."""

    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"
    SERVICE = "service"


class Actor(Contract):
    """The person or service that acted: recorded on every event."""

    kind: ActorKind
    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)


SYSTEM_ACTOR = Actor(kind=ActorKind.SYSTEM, id="system", name="System")

DataT = TypeVar("DataT", bound=BaseModel)


class Envelope(Contract, Generic[DataT]):
    """Common fields of every event; `type` and `version` pick the model of `data`."""

    event_id: UUID = Field(default_factory=uuid4)
    type: str
    version: int = 1
    occurred_at: AwareDatetime
    producer: str
    correlation_id: UUID
    causation_id: UUID | None = None
    actor: Actor
    order_id: UUID | None = None
    data: DataT


def tag_of(model: type[Envelope[Any]]) -> str:
    """The union tag of an event model: its type and version, e.g. ``order.placed@1``."""
    fields = model.model_fields
    return f"{fields['type'].default}@{fields['version'].default}"


def _tag_of_message(value: Any) -> str | None:
    if isinstance(value, dict):
        return f"{value.get('type')}@{value.get('version', 1)}"
    if isinstance(value, Envelope):
        return f"{value.type}@{value.version}"
    return None


class Topic:
    """A Kafka topic and the event models that may travel on it, parsed as one tagged union."""

    def __init__(self, name: str, *models: type[Envelope[Any]]) -> None:
        self.name = name
        self.dlq = f"{name}.dlq"
        self.models = {tag_of(model): model for model in models}
        union = Union[tuple(Annotated[model, Tag(tag)] for tag, model in self.models.items())]  # type: ignore[valid-type]  # noqa: UP007
        self.adapter: TypeAdapter[Envelope[Any]] = TypeAdapter(
            Annotated[union, Discriminator(_tag_of_message)]
        )

    def parse(self, raw: bytes | str) -> Envelope[Any]:
        """Parse one message of this topic into its exact event model (raises ValidationError)."""
        return self.adapter.validate_json(raw)

    def knows(self, type_: str, version: int) -> bool:
        """Whether the contracts define this event type and version on this topic."""
        return f"{type_}@{version}" in self.models
