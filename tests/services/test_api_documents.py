"""The committed OpenAPI and AsyncAPI documents in docs/api are what the apps generate, and the
AsyncAPI documents say what each service receives as well as what it publishes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import ALL_TOPICS, TOPICS
from scripts.export_api_docs import APPS, DOCS, documents

GENERATED = documents()
ASYNCAPI = {
    name.removesuffix(".asyncapi.json"): json.loads(content)
    for name, content in GENERATED.items()
    if name.endswith(".asyncapi.json")
}

#: The topics other services of the provider write, and the service of ours that acts on each.
INBOUND = {
    "payments.events": "billing",
    "provisioning.events": "orders",
    "abuse.events": "orders",
    "monitoring.events": "notifier",
}


def test_committed_api_documents_match_the_apps() -> None:
    stale = [
        name
        for name, content in GENERATED.items()
        if not (DOCS / name).exists() or (DOCS / name).read_text() != content
    ]
    assert not stale, f"run `make docs`: {stale} differ from what the apps generate"


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _carried(document: dict[str, Any], action: str) -> dict[str, list[str]]:
    """Topic → the event types its messages carry, for every operation of one action."""
    found: dict[str, list[str]] = {}
    for operation in document["operations"].values():
        if operation["action"] != action:
            continue
        channel = _resolve(document, operation["channel"])
        for message in operation["messages"]:
            payload = _resolve(document, _resolve(document, message)["payload"])
            assert payload.get("type") != "null", f"{channel['address']}: empty payload"
            options = payload.get("anyOf", [payload])
            events = [_resolve(document, option) for option in options]
            found.setdefault(channel["address"], []).extend(
                event["properties"]["type"]["const"] for event in events
            )
    return found


@pytest.mark.parametrize("service", APPS)
def test_every_received_message_carries_the_contract_events_the_service_applies(
    service: str,
) -> None:
    runtime = APPS[service]().state.runtime
    applied = {
        consumer.topic_name: [model.model_fields["type"].default for model in consumer.handlers]
        for consumer in runtime.consumers
    }
    received = _carried(ASYNCAPI[service], "receive")
    assert received == applied
    assert all(received.values()), "a received topic documents no event"
    for topic, types in received.items():
        assert set(types) <= {
            model.model_fields["type"].default for model in TOPICS[topic].models.values()
        }


@pytest.mark.parametrize("service", APPS)
def test_every_service_documents_every_event_it_publishes(service: str) -> None:
    published = _carried(ASYNCAPI[service], "send")
    assert len(published) == 1
    ((topic, types),) = published.items()
    assert types == [
        model.model_fields["type"].default for model in ALL_TOPICS[topic].models.values()
    ]


def test_every_inbound_topic_is_received_by_its_service_and_by_the_journal() -> None:
    for topic, service in INBOUND.items():
        assert topic in _carried(ASYNCAPI[service], "receive"), f"{service} ignores {topic}"
    journaled = _carried(ASYNCAPI["audit"], "receive")
    for topic in TOPICS.values():
        assert journaled[topic.name] == [
            model.model_fields["type"].default for model in topic.models.values()
        ]
