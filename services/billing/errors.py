"""Billing's named errors: each a fact, mapped to HTTP once (``app.DOMAIN_ERRORS``)."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID


class BillingError(Exception):
    """Base of billing's domain errors; the message is what a client reads."""


class InvoiceNotFound(BillingError):
    """No such invoice (or not the caller's)."""

    def __init__(self, invoice_id: UUID) -> None:
        super().__init__(f"There is no invoice {invoice_id}")


class TransitionNotAllowed(BillingError):
    """The invoice's status does not allow the action."""

    def __init__(self, status: StrEnum, action: StrEnum) -> None:
        super().__init__(f"An invoice in status '{status}' cannot {action}")
        self.status = status
        self.action = action


class InvoiceIsVoid(BillingError):
    """Staff tried to pay a void invoice by hand."""

    def __init__(self, number: str) -> None:
        super().__init__(f"Invoice {number} is void and cannot be paid")


class UnmatchedPaymentNotFound(BillingError):
    """No unmatched payment of that id (never, or resolved already)."""

    def __init__(self, payment_id: str) -> None:
        super().__init__(f"There is no unmatched payment {payment_id}")


class ExemptionNotFound(BillingError):
    """The customer is not exempt from dunning."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"Customer {customer_id} is not exempt from dunning")


class CurrencyMismatch(BillingError):
    """Amounts in different currencies where one currency is required."""
