"""The reliability tier: the whole system under faults. Every test records its figures (events,
kills, duplicates found, lost found, recovery seconds) with ``figures``; they are printed at the
end of the run, under "reliability figures"."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Recorder = Callable[..., None]

_FIGURES: list[tuple[str, dict[str, object]]] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Recorder:
    """``figures(events=1200, kills=3, duplicates=0, lost=0)``: this test's figures."""

    def record(**values: object) -> None:
        _FIGURES.append((request.node.name, values))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for test, values in _FIGURES:
        shown = ", ".join(f"{name}={value}" for name, value in values.items())
        terminalreporter.write_line(f"{test}: {shown}")
