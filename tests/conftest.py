"""Fixtures every tier shares: the real Kafka and PostgreSQL of this run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.stack import Servers, servers


@pytest.fixture(scope="session")
def stack() -> Iterator[Servers]:
    with servers() as found:
        os.environ.setdefault("TEST_KAFKA_BOOTSTRAP", found.kafka_bootstrap)
        yield found


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names of topics, groups and databases of one test."""
    return uuid.uuid4().hex[:10]
