"""``make up``: check what the local stack needs, run every process of ``deploy/Procfile`` under
one process manager (honcho), say where to look once everything answers, and stop everything on
Ctrl-C.

The configuration is ``deploy/local.env``; a variable set in the environment wins over its line
there, so a second stack can run beside the first with other ports."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from deploy import infra

ENV_FILE = infra.ROOT / "deploy" / "local.env"
LOCAL = infra.ROOT / ".local"
SERVICES = ("orders", "billing", "notifier", "audit")
#: How long the stack may take to answer before `make up` gives up and stops it.
START_TIMEOUT = 300.0


class NotReady(Exception):
    """A prerequisite of the local stack is missing: the message says what and what to do."""


def configuration(path: Path = ENV_FILE, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The local stack's variables: the file's lines, each overridden by the environment, with
    ``${NAME}`` expanded from the variables above it."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        name = name.strip()
        values[name] = environ.get(name, string.Template(value.strip()).safe_substitute(values))
    return values


def ports(config: Mapping[str, str]) -> list[tuple[str, str, int]]:
    """Every port the stack listens on: what listens there, the variable that sets it, the port."""
    kafka = int(config["KAFKA_PORT"])
    found = [
        ("PostgreSQL", "PG_PORT", int(config["PG_PORT"])),
        ("Kafka", "KAFKA_PORT", kafka),
        ("Kafka's controller", "KAFKA_PORT", kafka + 1),
        ("SMTP", "SMTP_PORT", int(config["SMTP_PORT"])),
        ("the mail page", "MAIL_PAGE_PORT", int(config["MAIL_PAGE_PORT"])),
        ("the panel", "PANEL_HTTP_PORT", int(config["PANEL_HTTP_PORT"])),
    ]
    for service in SERVICES:
        variable = f"{service.upper()}_HTTP_PORT"
        found.append((service, variable, int(config[variable])))
    return found


def check(config: Mapping[str, str]) -> None:
    """Raise NotReady naming the first missing prerequisite."""
    if not (infra.PG_BIN / "postgres").exists():
        raise NotReady(
            f"PostgreSQL 15 is not installed ({infra.PG_BIN} is missing): run `make setup` "
            "as root or with sudo, or `apt-get install postgresql-15`"
        )
    if shutil.which("java") is None:
        raise NotReady("Java is not installed: `apt-get install openjdk-17-jre-headless`")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise NotReady(
                "as root, PostgreSQL runs as the `postgres` user, which does not exist: "
                "reinstall postgresql-15, or run `make up` as an ordinary user"
            ) from None
    for what, variable, port in ports(config):
        if infra.port_taken(port):
            raise NotReady(
                f"port {port} for {what} is already in use (another `make up`?): stop "
                f"what listens there, or choose another one: `{variable}=<port> make up`"
            )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def where_to_look(config: Mapping[str, str]) -> str:
    lines = [
        "",
        "Everything answers:",
        f"  panel     http://127.0.0.1:{config['PANEL_HTTP_PORT']}/",
    ]
    for service in SERVICES:
        port = config[f"{service.upper()}_HTTP_PORT"]
        lines.append(f"  {service:<9} http://127.0.0.1:{port}/docs")
    lines += [
        '  a token   make token ROLE=customer SUB=c-1 NAME="Ada"  (ROLE=staff for the back office)',
        f"  mail      http://127.0.0.1:{config['MAIL_PAGE_PORT']}/ (files: {LOCAL / 'mail'})",
        "  a story   make demo, in another terminal",
        "Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def _announce_when_ready(
    config: Mapping[str, str], manager: subprocess.Popen[bytes], gave_up: threading.Event
) -> None:
    urls = [f"http://127.0.0.1:{config[f'{s.upper()}_HTTP_PORT']}/readyz" for s in SERVICES]
    urls.append(f"http://127.0.0.1:{config['PANEL_HTTP_PORT']}/healthz")
    deadline = time.monotonic() + START_TIMEOUT
    while manager.poll() is None:
        if all(_answers(url) for url in urls):
            print(where_to_look(config), flush=True)
            return
        if time.monotonic() > deadline:
            print(
                f"make up: the services did not all answer within {START_TIMEOUT:.0f} s "
                "(their lines above say why); stopping",
                file=sys.stderr,
                flush=True,
            )
            gave_up.set()
            manager.send_signal(signal.SIGTERM)
            return
        time.sleep(1)


def main() -> int:
    config = configuration()
    try:
        check(config)
    except NotReady as problem:
        print(f"make up: {problem}", file=sys.stderr)
        return 1
    LOCAL.mkdir(exist_ok=True)
    env_file = LOCAL / "up.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in config.items()))
    # Ctrl-C reaches honcho too (same process group); it stops every process, and we wait.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    manager = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", "deploy/Procfile", "-e", str(env_file)],
        cwd=infra.ROOT,
    )
    signal.signal(signal.SIGTERM, lambda *_: manager.send_signal(signal.SIGTERM))
    gave_up = threading.Event()
    threading.Thread(
        target=_announce_when_ready, args=(config, manager, gave_up), daemon=True
    ).start()
    code = manager.wait()
    if gave_up.is_set():
        return 1
    if code in (0, 130, -signal.SIGINT, -signal.SIGTERM, 143):
        print("make up: everything stopped", flush=True)
        return 0
    print(
        f"make up: a process stopped (honcho exited with {code}); its lines above say why, "
        "and everything else was stopped",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
