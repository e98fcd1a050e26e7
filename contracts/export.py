"""The JSON Schema of every event model, as committed under ``contracts/schemas/``.

One file per event type and version, ``<type>.v<version>.json``, rendered deterministically (sorted
keys, two-space indent, trailing newline). The schemas are the *validation* schemas: what a
consumer accepts, which is what a breaking change breaks (``event_id`` shows as optional there,
because it has a default, while a producer always writes it).

Each schema declares its dialect (``$schema``: JSON Schema 2020-12, the draft Pydantic emits) and
a stable ``$id`` made from the event's type and version, ``urn:order-platform:event:<type>:v<n>``,
which names the schema without pretending it can be downloaded from somewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from contracts import ALL_TOPICS
from contracts.envelope import Envelope

#: Where the committed schemas live.
SCHEMA_DIR = Path(__file__).parent / "schemas"

#: The JSON Schema dialect of every exported schema: the one Pydantic generates.
DIALECT = GenerateJsonSchema.schema_dialect


def event_models() -> list[type[Envelope[Any]]]:
    """Every event model of every topic."""
    return [model for topic in ALL_TOPICS.values() for model in topic.models.values()]


def schema_file_name(model: type[Envelope[Any]]) -> str:
    """The file a model's schema is committed in, e.g. ``order.placed.v1.json``."""
    fields = model.model_fields
    return f"{fields['type'].default}.v{fields['version'].default}.json"


def schema_id(model: type[Envelope[Any]]) -> str:
    """The stable ``$id`` of a model's schema, e.g. ``urn:order-platform:event:order.placed:v1``."""
    fields = model.model_fields
    return f"urn:order-platform:event:{fields['type'].default}:v{fields['version'].default}"


def schema_of(model: type[Envelope[Any]]) -> dict[str, Any]:
    """The JSON Schema (validation mode) of one event model, with its dialect and ``$id``."""
    schema = model.model_json_schema(mode="validation")
    return {"$schema": DIALECT, "$id": schema_id(model), **schema}


def render(schema: dict[str, Any]) -> str:
    """The schema as it is written to its file."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def current_schemas() -> dict[str, str]:
    """File name → rendered schema, for every event model as the code defines it now."""
    files = {schema_file_name(model): render(schema_of(model)) for model in event_models()}
    if len(files) != len(event_models()):
        raise ValueError("two topics define the same event type and version")
    return dict(sorted(files.items()))


def committed_schemas(directory: Path = SCHEMA_DIR) -> dict[str, str]:
    """File name → text of every schema file committed in `directory`."""
    return {path.name: path.read_text("utf-8") for path in sorted(directory.glob("*.json"))}
