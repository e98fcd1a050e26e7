"""The container image and compose: what a cluster and an operator check before running it."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import asyncpg
import yaml

from services.kit.runtime import asyncpg_dsn
from tests.stack import Servers

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _stages() -> list[str]:
    return re.split(r"(?m)^FROM ", DOCKERFILE.read_text())[1:]


def test_the_image_runs_as_a_numeric_uid_without_uv_and_checks_its_health() -> None:
    stages = _stages()
    assert len(stages) >= 2, "a build stage and a runtime stage"
    runtime = stages[-1]
    uid = re.search(r"(?m)^ARG UID=(\d+)$", runtime)
    assert uid is not None
    assert int(uid.group(1)) >= 1000
    assert re.search(r"(?m)^USER \$\{UID\}:\$\{UID\}$", runtime)
    assert "uv" not in re.findall(r"[\w.-]+", runtime.split("\n", 1)[1].replace("/app/.venv", ""))
    assert "UV_NO_CACHE=1" in stages[0]
    assert re.search(r"(?m)^HEALTHCHECK .*\n.*deploy\.healthcheck", runtime)
    assert "$SERVICE" in runtime


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".cache", ".local"} <= ignored
    assert any("pgdata" in line for line in ignored)


def test_compose_waits_for_healthy_dependencies_and_keeps_data_in_volumes() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("postgres", "kafka", "smtp"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("orders", "billing", "notifier", "audit"):
        conditions = {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}
        assert conditions == {
            "postgres": "service_healthy",
            "kafka": "service_healthy",
            "smtp": "service_healthy",
            f"migrate-{name}": "service_completed_successfully",
        }
        assert services[f"migrate-{name}"]["command"] == ["--migrate-only"]
    assert set(compose["volumes"]) == {"postgres", "kafka", "mail"}
    mounts = {
        mount.split(":")[0] for service in services.values() for mount in service.get("volumes", [])
    }
    assert {"postgres", "kafka", "mail"} <= mounts
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


async def test_migrate_only_applies_the_migrations_and_exits(stack: Servers, unique: str) -> None:
    url = await stack.create_database(f"migrate_{unique}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.billing",
        "--migrate-only",
        env={"BILLING_DATABASE_URL": url, "LOG_JSON": "false", "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    # Without the flag the process would go on to wait for Kafka and serve: no exit in time.
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, output.decode()
    assert "migrated" in output.decode()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        version = await connection.fetchval("SELECT version_num FROM alembic_version")
        outbox = await connection.fetchval("SELECT to_regclass('outbox')::text")
    finally:
        await connection.close()
    assert version
    assert outbox == "outbox"
