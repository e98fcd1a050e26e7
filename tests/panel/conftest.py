"""The whole system and the panel, once for the panel's tests: the four services and the panel
as processes on the run's real Kafka and PostgreSQL, and Chromium at the screen."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver

from tests.apps import ROOT
from tests.e2e.system import (
    SERVICES,
    OutsideWorld,
    System,
    free_port,
    outside_world,
    running_system,
)
from tests.helpers import eventually
from tests.panel.browser import chromium
from tests.stack import Servers


@dataclass
class Panel:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


#: Seconds the four services may take to migrate and start on a busy shared machine.
STARTUP_PATIENCE = 600


@pytest.fixture(scope="package")
async def system(stack: Servers, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    folder: Path = tmp_path_factory.mktemp("panel")
    prefix = f"panel{folder.name.replace('-', '').replace('_', '')[-8:]}."
    # Longer than e2e's wait: the panel's tests start a browser too, on two busy cores.
    async with running_system(stack, prefix, folder, ready_timeout=STARTUP_PATIENCE) as found:
        yield found


@pytest.fixture(scope="package")
async def world(system: System) -> AsyncIterator[OutsideWorld]:
    async with outside_world(system) as found:
        yield found


def start_panel(system: System, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    """``python -m services.panel``, as the process manager starts it, over the system."""
    env = {
        **system.environment(),
        "ENVIRONMENT": "local",
        "PANEL_HTTP_PORT": str(port),
        # Small pages, so that a story of a few orders has more than one.
        "PANEL_ORDERS_PAGE_SIZE": "3",
        **{f"PANEL_{name.upper()}_URL": system.url(name) for name in SERVICES},
    }
    log = system.logs / "panel.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.panel"],
        cwd=ROOT,
        env=env,
        stdout=open(log, "ab"),  # noqa: SIM115 - the child's output
        stderr=subprocess.STDOUT,
    )
    return process, log


@pytest.fixture(scope="package")
async def panel(system: System) -> AsyncIterator[Panel]:
    port = free_port()
    process, log = start_panel(system, port)
    url = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the panel exited: see {log}")
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(f"{url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await eventually(up, timeout=STARTUP_PATIENCE, interval=0.5)
        yield Panel(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()
