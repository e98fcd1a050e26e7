"""``python -m services.notifier``: migrate, then serve HTTP, consumers and relay."""

from pathlib import Path

from services.kit.service import serve
from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings

serve(NotifierSettings(), create_app, Path(__file__).parent)  # type: ignore[arg-type]
