"""``python -m services.audit``: migrate, then serve HTTP, consumers and relay."""

from pathlib import Path

from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.kit.service import serve

serve(AuditSettings(), create_app, Path(__file__).parent)  # type: ignore[arg-type]
