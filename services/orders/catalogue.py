"""The product catalogue's rules: tariff plans, their prices and the periods they allow.

Pure, like ``domain``: the catalogue tables are read into these values by the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from services.orders.errors import InvalidField

#: ISO 4217 codes the catalogue may price in.
CURRENCIES = frozenset({"EUR", "USD", "GBP", "PLN", "CHF", "CZK", "SEK", "NOK", "DKK", "JPY"})


@dataclass(frozen=True)
class Plan:
    """A tariff plan of a product: the monthly price and the periods it may be bought for."""

    id: str
    product: str
    name: str
    monthly_price: Decimal
    currency: str
    periods: tuple[int, ...]
    active: bool = True

    def price_for(self, period_months: int) -> Decimal:
        if period_months not in self.periods:
            allowed = ", ".join(str(p) for p in self.periods)
            raise InvalidField("period_months", f"the plan {self.id!r} allows {allowed} months")
        return self.monthly_price * period_months


@dataclass(frozen=True)
class RenewalLine:
    order_id: UUID
    service_name: str
    plan: str
    period_months: int
    price: Decimal
    currency: str


def each_order_once(order_ids: list[UUID]) -> None:
    """One renewal names each order once."""
    if len(set(order_ids)) != len(order_ids):
        raise InvalidField("items", "each order may appear once in a renewal")


def one_renewal(lines: list[RenewalLine]) -> list[RenewalLine]:
    """The lines of one renewal invoice: each order once, all in one currency."""
    each_order_once([line.order_id for line in lines])
    if len({line.currency for line in lines}) > 1:
        raise InvalidField("items", "orders priced in different currencies renew separately")
    return lines
