"""What a service receives, in its AsyncAPI document (`services.kit.service.asyncapi_document`).

FastStream documents a publisher by the schema it is given, and a subscriber by its handler's
parameters. The kit reads all of a service's topics through one handler that takes raw batches
(:func:`services.kit.consumer.subscribe`), so FastStream alone would show every received message
as an empty payload. Here each received topic's message gets what the service applies from it:
the union of the event models it has handlers for, their schemas added to the document's
components the way FastStream adds the published ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic.json_schema import models_json_schema

from contracts.envelope import Envelope
from services.kit.consumer import EventConsumer

#: Where FastStream puts the schemas of a document; references point there.
REF_TEMPLATE = "#/components/schemas/{model}"

#: FastStream's schema of a handler that takes no contract model.
EMPTY_PAYLOAD = "EmptyPayload"


def describe_received(
    document: dict[str, Any], consumers: Sequence[EventConsumer], *, service: str
) -> None:
    """Give every received message of `document` the events its topic's consumer applies."""
    by_address = {consumer.topic_name: consumer for consumer in consumers}
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for operation in document.get("operations", {}).values():
        if operation["action"] != "receive":
            continue
        channel = _resolve(document, operation["channel"]["$ref"])
        consumer = by_address[channel["address"]]
        for reference in channel["messages"].values():
            message = _resolve(document, reference["$ref"])
            payload = f"{message['title']}:Payload"
            schemas[payload] = _union(consumer, schemas, title=payload)
            message["payload"] = {"$ref": REF_TEMPLATE.format(model=payload)}
            message["description"] = _description(consumer, service)
    if EMPTY_PAYLOAD in schemas and REF_TEMPLATE.format(model=EMPTY_PAYLOAD) not in json.dumps(
        document
    ):
        del schemas[EMPTY_PAYLOAD]


def _union(consumer: EventConsumer, schemas: dict[str, Any], *, title: str) -> dict[str, Any]:
    """The anyOf of the consumer's event models, whose schemas are added to `schemas`."""
    models = list(consumer.handlers)
    names, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template=REF_TEMPLATE
    )
    for name, schema in definitions.get("$defs", {}).items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas are both called {name}")
    return {"anyOf": [names[(model, "validation")] for model in models], "title": title}


def _description(consumer: EventConsumer, service: str) -> str:
    applied = ", ".join(_name(model) for model in consumer.handlers)
    return (
        f"The events of `{consumer.topic_name}` that {service} applies: {applied}. "
        "Other event types of the topic are skipped and counted; a message that is not one "
        f"of the topic's contract events goes to `{consumer.dlq_name}`."
    )


def _name(model: type[Envelope[Any]]) -> str:
    type_, version = model.model_fields["type"].default, model.model_fields["version"].default
    return f"`{type_}`" if version == 1 else f"`{type_}` (version {version})"


def _resolve(document: dict[str, Any], reference: str) -> dict[str, Any]:
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    result: dict[str, Any] = node
    return result
