"""``python -m services.panel``: serve the pages (http://127.0.0.1:8000 locally)."""

import logging

import uvicorn

from services.kit.logs import configure_logging
from services.panel.app import create_app
from services.panel.settings import PanelSettings

settings = PanelSettings()
configure_logging("panel", json=settings.log_json)
# One line per call to a service is noise; a failed one is a page the user sees, and logged.
logging.getLogger("httpx").setLevel(logging.WARNING)
uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)
