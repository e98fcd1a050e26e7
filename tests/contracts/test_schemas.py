"""The committed JSON Schemas are up to date, and no model breaks one within its version.

Compatibility is checked against the schema files in the working tree and, where git has them,
against the files at ``CONTRACTS_BASE_REF`` (default ``HEAD``; CI sets the target branch), so
regenerating a schema over a breaking change does not hide it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from contracts.compat import breaking_changes
from contracts.export import SCHEMA_DIR, committed_schemas, current_schemas

ROOT = Path(__file__).resolve().parents[2]
CURRENT = current_schemas()
COMMITTED = committed_schemas()


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    return result.stdout if result.returncode == 0 else None


def _base_schemas() -> dict[str, str]:
    ref = os.environ.get("CONTRACTS_BASE_REF", "HEAD")
    folder = SCHEMA_DIR.relative_to(ROOT).as_posix()
    listing = _git("ls-tree", "--name-only", f"{ref}:{folder}") or ""
    names = [name for name in listing.splitlines() if name.endswith(".json")]
    texts = {name: _git("show", f"{ref}:{folder}/{name}") for name in names}
    return {name: text for name, text in texts.items() if text is not None}


BASE = _base_schemas()
EARLIER = [
    *(pytest.param(name, text, id=f"working-tree:{name}") for name, text in COMMITTED.items()),
    *(pytest.param(name, text, id=f"base:{name}") for name, text in BASE.items()),
]


@pytest.mark.parametrize("name", CURRENT)
def test_every_model_has_its_schema_committed_as_generated(name: str) -> None:
    assert name in COMMITTED, f"no schema file {name} for this event model: run `make schemas`"
    assert COMMITTED[name] == CURRENT[name], (
        f"{name} differs from what the model produces now: run `make schemas`"
    )


@pytest.mark.parametrize(("name", "earlier"), EARLIER)
def test_models_do_not_break_their_committed_schema(name: str, earlier: str) -> None:
    assert name in CURRENT, f"{name}: the event type is gone; keep the model, add a new version"
    problems = breaking_changes(json.loads(earlier), json.loads(CURRENT[name]))
    assert not problems, (
        f"{name} changed in a breaking way within its version; add a new version of the event "
        "instead (a new model with version 2, accepted side by side):\n  " + "\n  ".join(problems)
    )


def test_schema_files_are_pretty_sorted_and_end_with_a_newline() -> None:
    for name, text in COMMITTED.items():
        schema = json.loads(text)
        assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        properties = schema["properties"]
        assert name == f"{properties['type']['const']}.v{properties['version']['const']}.json"


@pytest.mark.parametrize("name", COMMITTED)
def test_every_schema_declares_its_dialect_and_a_stable_id(name: str) -> None:
    schema = json.loads(COMMITTED[name])
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema", name
    type_, version = schema["properties"]["type"]["const"], schema["properties"]["version"]["const"]
    assert schema.get("$id") == f"urn:order-platform:event:{type_}:v{version}", name
    Draft202012Validator.check_schema(schema)


def test_schema_ids_are_unique() -> None:
    ids = [json.loads(text)["$id"] for text in COMMITTED.values()]
    assert len(ids) == len(set(ids))


def test_every_sample_event_is_valid_against_its_committed_schema(event: Any) -> None:
    name = f"{event.type}.v{event.version}.json"
    schema = json.loads(COMMITTED[name])
    Draft202012Validator(schema).validate(json.loads(event.model_dump_json()))
