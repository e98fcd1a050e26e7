"""The Kubernetes manifests, rendered as `kubectl apply -k` would, checked against the
Kubernetes schemas that `kubernetes-validate` ships (nothing is downloaded) and against what a
cluster's admission policy asks of the services: a numeric non-root uid, a read-only root
filesystem, probes and resources."""

from __future__ import annotations

import base64
import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAY = K8S / "overlays" / "local"
SERVICES = ("orders", "billing", "notifier", "audit")
KUBERNETES_VERSION = "1.33"


def _render_with_pyyaml(folder: Path) -> list[dict[str, Any]]:
    """Without kustomize: the resource files of the kustomization and the ones it includes, with
    its namespace and images (generated ConfigMaps and Secrets are left out)."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    documents: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = folder / resource
        if path.is_dir():
            documents += _render_with_pyyaml(path)
        else:
            documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    images = {image["name"]: image for image in kustomization.get("images", [])}
    for doc in documents:
        if "namespace" in kustomization and doc["kind"] != "Namespace":
            doc["metadata"]["namespace"] = kustomization["namespace"]
        for container in _pod(doc)["containers"] if _pod(doc) else []:
            image = images.get(container["image"])
            if image:
                container["image"] = f"{image['newName']}:{image['newTag']}"
    return documents


def _render(folder: Path) -> list[dict[str, Any]]:
    if kustomize := shutil.which("kustomize"):
        command = [kustomize, "build", str(folder)]
    elif kubectl := shutil.which("kubectl"):
        command = [kubectl, "kustomize", str(folder)]
    else:
        return _render_with_pyyaml(folder)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def _pod(doc: dict[str, Any]) -> dict[str, Any] | None:
    template = doc.get("spec", {}).get("template")
    return template["spec"] if template else None


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return _render(OVERLAY)


def _of(manifests: list[dict[str, Any]], kind: str, component: str) -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["labels"]["app.kubernetes.io/name"]: doc
        for doc in manifests
        if doc["kind"] == kind
        and doc["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "order-platform"
        and doc["metadata"]["labels"].get("app.kubernetes.io/component") == component
    }


def test_every_manifest_matches_the_kubernetes_schema(manifests: list[dict[str, Any]]) -> None:
    kinds = {doc["kind"] for doc in manifests}
    assert {"Deployment", "Service", "PodDisruptionBudget", "Job"} <= kinds
    for doc in manifests:
        # strict: a misspelt field is an error, not silently dropped by the cluster.
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_base_alone_is_valid_too() -> None:
    for doc in _render(K8S / "base"):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_misspelt_field_is_caught() -> None:
    broken = yaml.safe_load((K8S / "base" / "orders.yaml").read_text().split("---")[0])
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def _image_uid() -> int:
    match = re.search(r"(?m)^ARG UID=(\d+)$", (ROOT / "deploy" / "Dockerfile").read_text())
    assert match is not None
    return int(match.group(1))


def _assert_locked_down(pod: dict[str, Any]) -> None:
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == _image_uid()
    assert isinstance(security["runAsGroup"], int)
    assert security["runAsGroup"] > 0
    tmp_volumes = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    for container in pod["containers"]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts["/tmp"] in tmp_volumes
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"])
        assert "memory" in resources["limits"]


def test_services_run_locked_down_with_probes(manifests: list[dict[str, Any]]) -> None:
    deployments = _of(manifests, "Deployment", "service")
    assert set(deployments) == set(SERVICES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        _assert_locked_down(pod)
        (container,) = pod["containers"]
        assert {"name": "SERVICE", "value": name} in container["env"]
        ports = {port["name"] for port in container["ports"]}
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            assert container[probe]["httpGet"]["path"] == path, (name, probe)
            assert container[probe]["httpGet"]["port"] in ports


def test_configuration_and_secrets_come_from_objects_that_exist(
    manifests: list[dict[str, Any]],
) -> None:
    names = {(doc["kind"], doc["metadata"]["name"]) for doc in manifests}
    for name, deployment in _of(manifests, "Deployment", "service").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        sources = container["envFrom"]
        config = [s["configMapRef"]["name"] for s in sources if "configMapRef" in s]
        secrets = [s["secretRef"]["name"] for s in sources if "secretRef" in s]
        assert config, name
        assert secrets, name
        # No credential in the pod spec itself.
        assert all("value" not in var or "://" not in var["value"] for var in container["env"])
        if shutil.which("kubectl") or shutil.which("kustomize"):
            assert ("ConfigMap", config[0]) in names
            assert ("Secret", secrets[0]) in names


def test_each_service_has_a_service_a_budget_and_a_migration_job(
    manifests: list[dict[str, Any]],
) -> None:
    deployments = _of(manifests, "Deployment", "service")
    services = _of(manifests, "Service", "service")
    budgets = _of(manifests, "PodDisruptionBudget", "service")
    jobs = _of(manifests, "Job", "migrate")
    for name, deployment in deployments.items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = budgets[name]["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels.items()
        assert services[name]["spec"]["selector"].items() <= pod_labels.items()
        assert budgets[name]["spec"]["maxUnavailable"] < deployment["spec"].get("replicas", 1) + 1
        job_pod = jobs[name]["spec"]["template"]["spec"]
        _assert_locked_down(job_pod)
        (container,) = job_pod["containers"]
        assert container["args"] == ["--migrate-only"]
        assert (
            container["envFrom"]
            == deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        )


@pytest.mark.skipif(
    not (shutil.which("kubectl") or shutil.which("kustomize")),
    reason="the generated ConfigMap and Secrets need kustomize",
)
def test_each_service_accepts_the_configuration_its_pod_gets(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = {(doc["kind"], doc["metadata"]["name"]): doc for doc in manifests}
    for name, deployment in _of(manifests, "Deployment", "service").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        environment = {var["name"]: var["value"] for var in container["env"]}
        for source in container["envFrom"]:
            if "configMapRef" in source:
                environment |= objects["ConfigMap", source["configMapRef"]["name"]]["data"]
            else:
                secret = objects["Secret", source["secretRef"]["name"]]["data"]
                environment |= {k: base64.b64decode(v).decode() for k, v in secret.items()}
        with monkeypatch.context() as patch:
            for key, value in environment.items():
                patch.setenv(key, value)
            settings = _settings_class(name)()
        assert settings.http_host == "0.0.0.0"
        assert settings.database_url.endswith(f"@postgres:5432/{name}")
        assert settings.kafka().bootstrap_servers == "kafka:9092"


def _settings_class(name: str) -> Any:
    module = importlib.import_module(f"services.{name}.settings")
    return next(
        value
        for key, value in vars(module).items()
        if key.endswith("Settings") and key != "ServiceSettings"
    )


def test_the_local_database_is_initialised_as_compose_does() -> None:
    assert (OVERLAY / "postgres-init.sql").read_text() == (
        ROOT / "deploy" / "postgres-init.sql"
    ).read_text()
