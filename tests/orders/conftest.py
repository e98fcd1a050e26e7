"""One orders service for the whole folder: starting one (a database, migrations, three
consumer groups joining) takes seconds, so tests share it and keep apart by using customers
of their own. The clock is set back to ``START`` before each test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from services.kit.clock import FrozenClock
from tests.apps import running_service
from tests.orders.support import START, Orders
from tests.stack import Servers


@pytest.fixture(scope="session")
async def orders_service(stack: Servers) -> AsyncIterator[Orders]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    clock = FrozenClock(START)
    async with running_service("orders", stack, prefix=prefix, clock=clock) as service:
        yield Orders(service, clock, prefix, stack.kafka_bootstrap)


@pytest.fixture
def orders(orders_service: Orders) -> Orders:
    orders_service.clock.set(START)
    return orders_service
