"""The real infrastructure on this machine, without Docker: PostgreSQL from Debian's packages,
Apache Kafka from its Maven Central jars, both owned by the project under ignored folders.

Used by the local stack (``python -m deploy.stack``) and by the test suite, which starts its own
instances on other ports so it never touches a running stack."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
KAFKA_LIBS = CACHE / "kafka" / "libs"
KAFKA_POM = ROOT / "deploy" / "kafka" / "pom.xml"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_for_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until something listens on 127.0.0.1:port (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for port {port} exited with {process.returncode}")
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def port_taken(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:port (and would pass for our server)."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _postgres_user() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as: ourselves, or `postgres` when we are root (initdb and
    postgres refuse to run as root)."""
    return pwd.getpwnam("postgres") if os.geteuid() == 0 else None


def _as_postgres_user() -> Callable[[], None] | None:
    user = _postgres_user()
    if user is None:
        return None

    def demote() -> None:
        os.setgid(user.pw_gid)
        os.setgroups([])
        os.setuid(user.pw_uid)

    return demote


def _chown_to_postgres(path: Path) -> None:
    user = _postgres_user()
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)


def _can_enter(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether `user` may walk down to `path`: search permission on every folder above it."""
    groups = {user.pw_gid, *(g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem)}
    for folder in [path, *path.parents]:
        if not folder.exists():
            continue
        info = folder.stat()
        if info.st_uid == user.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


#: Where clusters live when root runs the project from a folder the `postgres` user cannot enter
#: (a home folder, a `mktemp -d` folder): their files move here rather than loosening the
#: permissions of the user's folders.
OUTSIDE_DATA = Path("/var/lib/order-platform")


def postgres_data_dir(wanted: Path) -> Path:
    """The folder a cluster wanted at `wanted` really lives in (see OUTSIDE_DATA)."""
    user = _postgres_user()
    wanted = wanted.resolve()
    if user is None or _can_enter(wanted.parent, user):
        return wanted
    digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:16]
    return OUTSIDE_DATA / f"{wanted.name}-{digest}"


@dataclass
class Postgres:
    """A PostgreSQL cluster owned by the project, listening on 127.0.0.1:port (TCP only)."""

    data_dir: Path
    port: int
    #: Server settings beyond the defaults (``-c name=value``): ``ssl=on`` and its files, say.
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = postgres_data_dir(self.data_dir)

    def write_file(self, name: str, content: bytes) -> Path:
        """A file in the cluster's folder that only the server's user may read (a TLS key,
        ``pg_hba.conf``); the cluster must be initialised."""
        path = self.data_dir / name
        path.write_bytes(content)
        path.chmod(0o600)
        _chown_to_postgres(path)
        return path

    def initialise(self) -> None:
        """Create the cluster once (trust auth on loopback only)."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        if self.data_dir.is_relative_to(OUTSIDE_DATA):
            OUTSIDE_DATA.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _chown_to_postgres(self.data_dir)
        subprocess.run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            preexec_fn=_as_postgres_user(),
            cwd=self.data_dir,
            stdout=subprocess.DEVNULL,
        )

    def command(self) -> list[str]:
        return [
            str(PG_BIN / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            # TCP only: a socket path would have to fit in 107 bytes, and every client here
            # connects to 127.0.0.1 anyway.
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "fsync=on",
            "-c",
            "log_min_messages=warning",
            "-c",
            "shared_preload_libraries=",
            *(f"-c{name}={value}" for name, value in self.settings.items()),
        ]

    def start(self, log: Path | None = None) -> subprocess.Popen[bytes]:
        self.initialise()
        out = open(log, "ab") if log else None  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(
            self.command(),
            preexec_fn=_as_postgres_user(),
            cwd=self.data_dir,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        wait_for_port(self.port, 30, process)
        self.wait_accepting()
        return process

    def remove(self) -> None:
        """Delete the cluster's files (the server must be stopped)."""
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def wait_accepting(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (
            subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("PostgreSQL does not accept connections")
            time.sleep(0.1)

    def exec_foreground(self) -> None:
        """Replace this process by the postgres server (for the process manager)."""
        self.initialise()
        os.chdir(self.data_dir)
        demote = _as_postgres_user()
        if demote:
            demote()
        os.execv(self.command()[0], self.command())

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def ensure_role(self, name: str) -> None:
        """Create a login role (password = its name; loopback only), once."""
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'").strip():
            self.psql(f"CREATE ROLE {name} LOGIN PASSWORD '{name}'")

    def ensure_database(self, name: str, owner: str = "app") -> None:
        """Create the owner's login role and a database it owns, once."""
        self.ensure_role(owner)
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip():
            self.psql(f"CREATE DATABASE {name} OWNER {owner}")
            self.psql("CREATE EXTENSION IF NOT EXISTS pg_trgm", database=name)

    def url(self, database: str, user: str = "app") -> str:
        return f"postgresql+asyncpg://{user}:{user}@127.0.0.1:{self.port}/{database}"


@dataclass
class Kafka:
    """One KRaft node (broker and controller) on 127.0.0.1:port, from the cached jars."""

    data_dir: Path
    port: int
    heap: str = "512m"
    #: Server properties beyond, or instead of, the defaults below (a SASL_SSL listener, say).
    settings: dict[str, str] = field(default_factory=dict)
    #: SCRAM credentials written at format time (KRaft keeps them in its metadata), as
    #: ``SCRAM-SHA-512=[name=alice,password=secret]``.
    scram: tuple[str, ...] = ()

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def properties(self) -> Path:
        path = self.data_dir / "server.properties"
        defaults = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir / "logs"),
            # One node: the internal topics can have one replica only.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Topics are created explicitly, with their partition counts.
            "auto.create.topics.enable": "false",
            "message.max.bytes": "1048588",
        }
        lines = [f"{key}={value}" for key, value in (defaults | self.settings).items()]
        path.write_text("\n".join(lines) + "\n")
        return path

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java",
            f"-Xmx{self.heap}",
            f"-Xms{self.heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'kafka' / 'log4j2.yaml'}",
            "-cp",
            f"{KAFKA_LIBS}/*",
            main,
            *args,
        ]

    def format(self) -> None:
        """Format the storage once with a fresh cluster id."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        properties = self.properties()
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                # As one argument: a random id may start with "-", and would read as an option.
                f"--cluster-id={_cluster_id()}",
                "-c",
                str(properties),
                "--ignore-formatted",
                *(f"--add-scram={credential}" for credential in self.scram),
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def command(self) -> list[str]:
        return self._java("kafka.Kafka", str(self.data_dir / "server.properties"))

    def start(self, log: Path | None = None) -> subprocess.Popen[bytes]:
        fetch_kafka()
        self.format()
        out = open(log, "ab") if log else None  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(self.command(), stdout=out, stderr=out, start_new_session=True)
        wait_for_port(self.port, 60, process)
        return process

    def exec_foreground(self) -> None:
        fetch_kafka()
        self.format()
        os.execvp("java", self.command())


def _cluster_id() -> str:
    # KRaft cluster ids are 16 random bytes in URL-safe base64 without padding.
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def fetch_kafka() -> None:
    """Download the broker's jars from Maven Central once, into the ignored cache."""
    marker = KAFKA_LIBS / ".complete"
    if marker.exists() and marker.read_text() == KAFKA_POM.read_text():
        return
    if KAFKA_LIBS.exists():
        shutil.rmtree(KAFKA_LIBS)
    KAFKA_LIBS.mkdir(parents=True)
    # Maven's output is shown only when it fails: even -q prints colour codes.
    result = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(KAFKA_POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={KAFKA_LIBS}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"mvn could not fetch the Kafka broker's jars (exit {result.returncode})")
    marker.write_text(KAFKA_POM.read_text())


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a server started here and wait for it; kill it if it does not stop in time."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
