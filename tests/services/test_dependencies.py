"""Every route and every dependency of the services is a coroutine: FastAPI runs a plain
``def`` in a worker thread, a thread hop per request on the hot paths."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from scripts.export_api_docs import APPS
from services.panel.app import create_app as panel_app
from services.panel.settings import PanelSettings

BUILDERS = {**APPS, "panel": lambda: panel_app(PanelSettings())}


def _runs_on_the_loop(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    # A security scheme (HTTPBearer) is an instance whose __call__ is a coroutine.
    return not inspect.isfunction(call) and inspect.iscoroutinefunction(type(call).__call__)


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # app.include_router(...)
        if included is not None:
            yield from _routes(included.routes)


def _calls(dependant: Dependant) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for inner in dependant.dependencies:
        yield from _calls(inner)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_no_route_or_dependency_runs_in_a_worker_thread(name: str) -> None:
    app = BUILDERS[name]()
    threaded = {
        f"{route.path} {getattr(call, '__qualname__', call)}"
        for route in _routes(app.routes)
        for call in _calls(route.dependant)
        if not _runs_on_the_loop(call)
    }
    assert any(True for _ in _routes(app.routes)), f"{name}: no route found"
    assert not threaded, f"{name}: make these `async def`: {sorted(threaded)}"
