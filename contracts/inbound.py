"""Events other services of the provider publish and we consume, validated like our own.

Topics: ``payments.events`` (the payment gateway), ``provisioning.events``, ``abuse.events`` (the
abuse desk) and ``monitoring.events``. Events about one order carry it in the envelope ``order_id``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal, Self
from uuid import UUID

from pydantic import IPvAnyAddress, model_validator

from contracts.envelope import Contract, Envelope, Money, ShortText, Text, Topic, UtcDatetime


class PaymentReceivedData(Contract):
    """The gateway received money for one of our invoices."""

    payment_id: ShortText
    """The gateway's id of the payment."""
    invoice_id: UUID
    amount: Money
    received_at: UtcDatetime


class PaymentReceived(Envelope[PaymentReceivedData]):
    """``payment.received``: money arrived (``order_id`` is null: the gateway knows invoices)."""

    type: Literal["payment.received"] = "payment.received"
    version: Literal[1] = 1


class PaymentFailedData(Contract):
    """A payment for one of our invoices was attempted and failed."""

    payment_id: ShortText
    """The gateway's id of the payment."""
    invoice_id: UUID
    amount: Money
    error: Text


class PaymentFailed(Envelope[PaymentFailedData]):
    """``payment.failed``: a payment attempt failed; nothing was paid."""

    type: Literal["payment.failed"] = "payment.failed"
    version: Literal[1] = 1


PAYMENTS = Topic("payments.events", PaymentReceived, PaymentFailed)


class ServiceDeliveredData(Contract):
    """Provisioning set up the service of an order."""

    main_ip: IPvAnyAddress
    """Main IP address of the delivered service."""
    contract: ShortText
    """The package/contract the service runs under."""
    starts_on: date
    """Start date of the contract."""


class ServiceDelivered(Envelope[ServiceDeliveredData]):
    """``service.delivered``: the order's service is ready (the order completes)."""

    type: Literal["service.delivered"] = "service.delivered"
    version: Literal[1] = 1
    order_id: UUID


PROVISIONING = Topic("provisioning.events", ServiceDelivered)


class ViolationConfirmedData(Contract):
    """The abuse desk confirmed a violation of the terms by an order's service."""

    case_id: ShortText
    """The abuse desk's case."""
    reason: Text


class ViolationConfirmed(Envelope[ViolationConfirmedData]):
    """``violation.confirmed``: suspend the order for violation."""

    type: Literal["violation.confirmed"] = "violation.confirmed"
    version: Literal[1] = 1
    order_id: UUID


class ViolationLiftedData(Contract):
    """The abuse desk closed a violation case in the customer's favour or after remedy."""

    case_id: ShortText
    """The abuse desk's case."""
    note: Text | None = None


class ViolationLifted(Envelope[ViolationLiftedData]):
    """``violation.lifted``: lift the order's suspension for violation."""

    type: Literal["violation.lifted"] = "violation.lifted"
    version: Literal[1] = 1
    order_id: UUID


ABUSE = Topic("abuse.events", ViolationConfirmed, ViolationLifted)


class IncidentSeverity(StrEnum):
    """How badly a server incident affects the service."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class IncidentOpenedData(Contract):
    """Monitoring detected a problem with a server."""

    incident_id: ShortText
    """Monitoring's id of the incident."""
    main_ip: IPvAnyAddress | None = None
    """The affected server's main IP, when monitoring does not know the order."""
    summary: Text
    severity: IncidentSeverity


class IncidentOpened(Envelope[IncidentOpenedData]):
    """``incident.opened``: a server incident began; names the order, the main IP, or both."""

    type: Literal["incident.opened"] = "incident.opened"
    version: Literal[1] = 1

    @model_validator(mode="after")
    def _names_order_or_ip(self) -> Self:
        if self.order_id is None and self.data.main_ip is None:
            raise ValueError("an incident names the order_id (envelope) or the main_ip (data)")
        return self


class IncidentResolvedData(Contract):
    """Monitoring saw the problem end."""

    incident_id: ShortText
    """The incident opened earlier."""


class IncidentResolved(Envelope[IncidentResolvedData]):
    """``incident.resolved``: the incident with this id is over."""

    type: Literal["incident.resolved"] = "incident.resolved"
    version: Literal[1] = 1


MONITORING = Topic("monitoring.events", IncidentOpened, IncidentResolved)
