"""``python -m services.orders``: migrate, then serve HTTP, consumers and relay."""

from pathlib import Path

from services.kit.service import serve
from services.orders.app import create_app
from services.orders.settings import OrdersSettings

serve(OrdersSettings(), create_app, Path(__file__).parent)  # type: ignore[arg-type]
