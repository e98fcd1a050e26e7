"""Writes the OpenAPI and AsyncAPI documents of every service to ``docs/api/``.

Run with ``make docs``; a test fails when the committed documents are not what the apps
generate, so they stay true to the code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from services.audit.app import create_app as audit_app
from services.audit.settings import AuditSettings
from services.billing.app import create_app as billing_app
from services.billing.settings import BillingSettings
from services.kit.service import asyncapi_document
from services.notifier.app import create_app as notifier_app
from services.notifier.settings import NotifierSettings
from services.orders.app import create_app as orders_app
from services.orders.settings import OrdersSettings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api"

APPS = {
    "orders": lambda: orders_app(OrdersSettings()),
    "billing": lambda: billing_app(BillingSettings()),
    "notifier": lambda: notifier_app(NotifierSettings()),
    "audit": lambda: audit_app(AuditSettings()),
}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def documents() -> dict[str, str]:
    """File name → content of every service's OpenAPI and AsyncAPI document."""
    found = {}
    for name, build in APPS.items():
        app = build()
        found[f"{name}.openapi.json"] = render(app.openapi())
        runtime = app.state.runtime
        found[f"{name}.asyncapi.json"] = render(
            asyncapi_document(runtime, title=app.title, description=app.description)
        )
    return found


def main() -> int:
    DOCS.mkdir(parents=True, exist_ok=True)
    for file_name, content in documents().items():
        (DOCS / file_name).write_text(content)
    print(f"wrote {len(APPS) * 2} documents to {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
