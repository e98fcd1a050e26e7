"""Fixtures every tier shares: the real Kafka and PostgreSQL of this run; and what a test that
hangs leaves behind: pytest-timeout ends the run (``timeout_method = "thread"``: a timeout
raised into the event loop can land in a task and be lost), and shortly before, the stacks of
every asyncio task are printed, since the threads' stacks show only the loop waiting."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Generator, Iterator

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


#: The event loop the tests run on (one for the session), for the dump of a test that hangs.
_LOOP: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(scope="session", autouse=True)
async def _session_loop() -> AsyncIterator[None]:
    _LOOP.append(asyncio.get_running_loop())
    yield
    _LOOP.clear()


def _dump_tasks(test: str) -> None:
    print(f"\n+++ {test} is about to time out; its asyncio tasks:", file=sys.stderr)
    for loop in _LOOP:
        for task in asyncio.all_tasks(loop):
            task.print_stack(file=sys.stderr)
    sys.stderr.flush()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    marker = item.get_closest_marker("timeout")
    timeout = float(marker.args[0] if marker else item.config.getini("timeout") or 0)
    timer = None
    if timeout > 15:
        timer = threading.Timer(timeout - 10, _dump_tasks, args=(item.nodeid,))
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
