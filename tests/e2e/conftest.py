"""The whole system, once per e2e module: four service processes, Kafka, PostgreSQL, SMTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest

from tests.e2e.system import OutsideWorld, System, outside_world, running_system
from tests.stack import Servers


@pytest.fixture(scope="module")
async def system(stack: Servers, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    folder: Path = tmp_path_factory.mktemp("e2e")
    # Unique per run, not per folder: every run's first folder is "e2e0", and two runs on one
    # shared cluster would drop each other's databases and share topics.
    prefix = f"e2e{uuid4().hex[:8]}."
    async with running_system(stack, prefix, folder) as found:
        yield found


@pytest.fixture(scope="module")
async def world(system: System) -> AsyncIterator[OutsideWorld]:
    async with outside_world(system) as found:
        yield found
