"""``python -m deploy.healthcheck [service]``: exit 0 when the service in this container answers
``/healthz`` on its own port (the image's HEALTHCHECK; the service is ``$SERVICE`` by default).

The port comes from the service's settings, read from the same environment as the service, so
``ORDERS_HTTP_PORT=9001`` moves the check with the service."""

from __future__ import annotations

import importlib
import os
import sys
import urllib.request

from services.kit.settings import ServiceSettings


def settings_of(service: str) -> ServiceSettings:
    module = importlib.import_module(f"services.{service}.settings")
    settings_class = next(
        value
        for name, value in vars(module).items()
        if name.endswith("Settings") and value is not ServiceSettings
    )
    settings: ServiceSettings = settings_class()
    return settings


def main() -> int:
    service = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SERVICE", "orders")
    url = f"http://127.0.0.1:{settings_of(service).http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
