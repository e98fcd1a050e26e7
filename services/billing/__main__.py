"""``python -m services.billing``: migrate, then serve HTTP, consumers and relay."""

from pathlib import Path

from services.billing.app import create_app
from services.billing.settings import BillingSettings
from services.kit.service import serve

serve(BillingSettings(), create_app, Path(__file__).parent)  # type: ignore[arg-type]
