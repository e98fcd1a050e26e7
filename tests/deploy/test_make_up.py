"""`make up` as a newcomer runs it: from a fresh clone in a folder only its owner may enter (as a
home folder or a `mktemp -d` folder is), under a path with a space, as whoever runs the suite
(root in CI). The clone is of the committed HEAD, as a newcomer's would be.

The stack gets ports of its own, so the test never meets a running `make up` or the suite's
servers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import infra

pytestmark = pytest.mark.timeout(900)

PORTS = {
    "PG_PORT": 55632,
    "KAFKA_PORT": 59492,
    "SMTP_PORT": 50225,
    "MAIL_PAGE_PORT": 18025,
    "ORDERS_HTTP_PORT": 18001,
    "BILLING_HTTP_PORT": 18002,
    "NOTIFIER_HTTP_PORT": 18003,
    "AUDIT_HTTP_PORT": 18004,
    "PANEL_HTTP_PORT": 18000,
}
SERVICE_PORTS = [PORTS[f"{name}_HTTP_PORT"] for name in ("ORDERS", "BILLING", "NOTIFIER", "AUDIT")]


class Run:
    """`make <target>` in its own process group, as a terminal would run it; output collected."""

    def __init__(self, clone: Path, target: str, environment: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["make", target],
            cwd=clone,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, f"make ended first:\n{self.tail()}"
            assert time.monotonic() < deadline, f"no {text!r} in {timeout} s:\n{self.tail()}"
            time.sleep(0.5)

    def finish(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to every process of the terminal's foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def tail(self, count: int = 40) -> str:
        return "\n".join(self.lines[-count:])


def _environment() -> dict[str, str]:
    """The caller's environment without anything that points at other servers or a venv."""
    local = (infra.ROOT / "deploy" / "local.env").read_text()
    configured = {line.split("=", 1)[0] for line in local.splitlines() if "=" in line}
    dropped = configured | {"VIRTUAL_ENV", "POSTGRES_ADMIN_URL", "TEST_KAFKA_BOOTSTRAP"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update({name: str(port) for name, port in PORTS.items()})
    return environment


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _ready(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
        return int(response.status)


@pytest.fixture(scope="module")
def clone() -> Iterator[Path]:
    """A fresh clone at `<mktemp -d>/my projects/order platform`."""
    private = Path(tempfile.mkdtemp(prefix="newcomer-"))
    clone = private / "my projects" / "order platform"
    clone.parent.mkdir()
    subprocess.run(["git", "clone", "--quiet", str(infra.ROOT), str(clone)], check=True)
    yield clone
    subprocess.run(["make", "clean"], cwd=clone, env=_environment(), check=False)
    shutil.rmtree(private, ignore_errors=True)


def test_a_missing_prerequisite_is_one_clear_line(clone: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", PORTS["BILLING_HTTP_PORT"]))
        taken.listen()
        run = Run(clone, "up", _environment())
        try:
            code = run.finish(600)
        finally:
            run.kill()
    said = [line for line in run.lines if "make up:" in line]
    assert code != 0
    assert said == [  # the whole line: nothing else of setup's printed before it
        f"make up: port {PORTS['BILLING_HTTP_PORT']} for billing is already in use (another "
        "`make up`?): stop what listens there, or choose another one: "
        "`BILLING_HTTP_PORT=<port> make up`"
    ], run.tail()
    assert "Traceback" not in run.output
    assert not any(_listening(port) for port in (PORTS["PG_PORT"], PORTS["KAFKA_PORT"]))


def test_make_up_from_a_private_folder_with_a_space_then_ctrl_c(clone: Path) -> None:
    private = clone.parent.parent
    mode_before = stat.S_IMODE(private.stat().st_mode)
    run = Run(clone, "up", _environment())
    try:
        run.wait_for("Ctrl-C stops everything.", timeout=600)
        assert [_ready(port) for port in SERVICE_PORTS] == [200, 200, 200, 200]
        announced = run.output.split("Everything answers:")[-1]
        for port in SERVICE_PORTS:
            assert f"http://127.0.0.1:{port}/docs" in announced
        assert f"http://127.0.0.1:{PORTS['PANEL_HTTP_PORT']}/" in announced
        assert "make token" in announced
        assert f"http://127.0.0.1:{PORTS['MAIL_PAGE_PORT']}/" in announced
        assert str(clone / ".local" / "mail") in announced

        run.interrupt()
        code = run.finish(120)
    finally:
        run.kill()
    # make dies of the SIGINT it got itself, after everything below it stopped cleanly.
    assert code in (0, -signal.SIGINT), run.tail()
    assert "make up: everything stopped" in run.output
    assert "Error" not in "\n".join(line for line in run.lines if line.startswith("make"))
    assert "Traceback" not in run.output, run.tail(80)
    assert not any(_listening(port) for port in [*PORTS.values(), PORTS["KAFKA_PORT"] + 1])
    # Nothing of the user's folders changed permissions to let PostgreSQL in.
    assert stat.S_IMODE(private.stat().st_mode) == mode_before == 0o700
