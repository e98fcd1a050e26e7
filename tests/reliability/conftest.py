"""The reliability tier: the whole system under faults. Every test records its figures (events,
kills, duplicates found, lost found, recovery seconds) with ``figures``; they are printed at the
end of the run, under "reliability figures".

Each module gets a system of its own (``system``: the four services as processes, one each, on
topics and databases named for the module), unless it defines ``system`` itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from uuid import uuid4

import pytest

from tests.e2e.system import OutsideWorld, System, outside_world, running_system
from tests.stack import Servers

Recorder = Callable[..., None]

_FIGURES: list[tuple[str, dict[str, object]]] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Recorder:
    """``figures(events=1200, kills=3, duplicates=0, lost=0)``: this test's figures."""

    def record(**values: object) -> None:
        _FIGURES.append((request.node.name, values))

    return record


@pytest.fixture(scope="module")
async def system(
    stack: Servers, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    name = request.module.__name__.rpartition(".test_")[2]
    async with running_system(
        stack, f"{name[:6]}{uuid4().hex[:8]}.", tmp_path_factory.mktemp(name)
    ) as found:
        yield found


@pytest.fixture(scope="module")
async def world(system: System) -> AsyncIterator[OutsideWorld]:
    async with outside_world(system) as found:
        yield found


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for test, values in _FIGURES:
        shown = ", ".join(f"{name}={value}" for name, value in values.items())
        terminalreporter.write_line(f"{test}: {shown}")
