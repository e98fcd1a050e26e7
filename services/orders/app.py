"""The orders service: the order lifecycle, the order list and the actions on an order."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from contracts import ORDERS
from services.kit.clock import Clock
from services.kit.runtime import Runtime
from services.kit.service import service_app
from services.orders.settings import OrdersSettings

TITLE = "Orders"
DESCRIPTION = "The order lifecycle, the customer's order list and the actions on an order."


def create_runtime(
    settings: OrdersSettings, registry: CollectorRegistry, clock: Clock | None = None
) -> Runtime:
    return Runtime(settings, publishes_on=ORDERS, registry=registry, clock=clock)


def create_app(settings: OrdersSettings, clock: Clock | None = None) -> FastAPI:
    registry = CollectorRegistry()
    runtime = create_runtime(settings, registry, clock)
    return service_app(runtime, title=TITLE, description=DESCRIPTION, registry=registry)
