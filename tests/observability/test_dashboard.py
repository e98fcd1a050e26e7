"""The Grafana dashboard queries only metrics the services export: each name in its
expressions is compared with what the four running services' ``/metrics`` declare."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.observability.conftest import SERVICES, Platform

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "order-platform.json"

#: The sample names a family of each type exposes (a counter ``x`` is read as ``x_total``).
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "unknown": ("",),
}
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_NOT_NAMES = re.compile(
    r"\{[^}]*\}"  # label matchers
    r"|\[[^\]]*\]"  # range
    r"|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"  # label lists
    r"|\"[^\"]*\"|'[^']*'"  # strings
    r"|\b\d+(?:\.\d+)?\b"  # numbers
)
_KEYWORDS = {"bool", "offset", "and", "or", "unless"}


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression reads (functions and keywords left out)."""
    bare = _NOT_NAMES.sub(" ", expression)
    return {
        match.group()
        for match in _IDENTIFIER.finditer(bare)
        if match.group() not in _KEYWORDS and not bare[match.end() :].lstrip().startswith("(")
    }


def queried() -> dict[str, str]:
    """Each metric name the dashboard reads, with the title of a panel that reads it."""
    dashboard = json.loads(DASHBOARD.read_text())
    names: dict[str, str] = {}
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            for name in metric_names(target["expr"]):
                names.setdefault(name, panel["title"])
    return names


async def exported(platform: Platform) -> set[str]:
    names: set[str] = set()
    for service in SERVICES:
        response = await platform.services[service].http.get("/metrics")
        for family in text_string_to_metric_families(response.text):
            names.update(family.name + suffix for suffix in _SUFFIXES[family.type])
    return names


def test_names_are_read_from_expressions() -> None:
    expression = 'histogram_quantile(0.95, sum by (le, job) (rate(x_bucket{job="a"}[5m]))) / y'
    assert metric_names(expression) == {"x_bucket", "y"}


async def test_every_metric_the_dashboard_queries_is_exported(platform: Platform) -> None:
    names = queried()
    assert len(names) >= 15, "the dashboard reads the platform's metrics"
    missing = {name: title for name, title in names.items() if name not in await exported(platform)}
    assert not missing, f"queried by the dashboard, exported by no service: {missing}"
