"""The contracts: every message on every topic, one Pydantic model per event type and version.

`TOPICS` maps each topic name to its `Topic`, which parses a raw message into its exact model.
`ALL_TOPICS` adds the audit service's checkpoints, which no service of the platform consumes
(they are kept by archives outside it).
"""

from contracts.audit import AUDIT, CheckpointLeaf, JournalCheckpointed, JournalCheckpointedData
from contracts.billing import (
    BILLING,
    DunningExemptionChanged,
    InvoiceIssued,
    InvoiceKind,
    InvoiceLine,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceReminderDue,
    InvoiceVoided,
    OverdueStage,
    PaymentRecorded,
    PaymentSource,
)
from contracts.envelope import (
    SYSTEM_ACTOR,
    Actor,
    ActorKind,
    Customer,
    Envelope,
    Money,
    Topic,
)
from contracts.inbound import (
    ABUSE,
    MONITORING,
    PAYMENTS,
    PROVISIONING,
    IncidentOpened,
    IncidentResolved,
    IncidentSeverity,
    PaymentFailed,
    PaymentReceived,
    ServiceDelivered,
    ViolationConfirmed,
    ViolationLifted,
)
from contracts.notifier import (
    NOTIFIER,
    NotificationChannel,
    NotificationDelivered,
    NotificationFailed,
    TicketOpened,
    TicketReason,
)
from contracts.orders import (
    ORDERS,
    CancellationMode,
    OrderAccepted,
    OrderCancellationRevoked,
    OrderCancellationScheduled,
    OrderCancelled,
    OrderCommentChanged,
    OrderCompleted,
    OrderHeld,
    OrderHoldReminderDue,
    OrderPlaced,
    OrderReactivated,
    OrderReleased,
    OrderStatus,
    OrderSuspended,
    SuspensionCause,
)
from contracts.renewals import OrderRenewalRequested, OrderRenewed

#: Every topic the platform reads or writes, by name.
TOPICS: dict[str, Topic] = {
    topic.name: topic
    for topic in (ORDERS, BILLING, NOTIFIER, PAYMENTS, PROVISIONING, ABUSE, MONITORING)
}

#: Every topic, the ones only published included.
ALL_TOPICS: dict[str, Topic] = {**TOPICS, AUDIT.name: AUDIT}

__all__ = [
    "ABUSE",
    "ALL_TOPICS",
    "AUDIT",
    "BILLING",
    "MONITORING",
    "NOTIFIER",
    "ORDERS",
    "PAYMENTS",
    "PROVISIONING",
    "SYSTEM_ACTOR",
    "TOPICS",
    "Actor",
    "ActorKind",
    "CancellationMode",
    "CheckpointLeaf",
    "Customer",
    "DunningExemptionChanged",
    "Envelope",
    "IncidentOpened",
    "IncidentResolved",
    "IncidentSeverity",
    "InvoiceIssued",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceOverdue",
    "InvoicePaid",
    "InvoiceReminderDue",
    "InvoiceVoided",
    "JournalCheckpointed",
    "JournalCheckpointedData",
    "Money",
    "NotificationChannel",
    "NotificationDelivered",
    "NotificationFailed",
    "OrderAccepted",
    "OrderCancellationRevoked",
    "OrderCancellationScheduled",
    "OrderCancelled",
    "OrderCommentChanged",
    "OrderCompleted",
    "OrderHeld",
    "OrderHoldReminderDue",
    "OrderPlaced",
    "OrderReactivated",
    "OrderReleased",
    "OrderRenewalRequested",
    "OrderRenewed",
    "OrderStatus",
    "OrderSuspended",
    "OverdueStage",
    "PaymentFailed",
    "PaymentReceived",
    "PaymentRecorded",
    "PaymentSource",
    "ServiceDelivered",
    "SuspensionCause",
    "TicketOpened",
    "TicketReason",
    "Topic",
    "ViolationConfirmed",
    "ViolationLifted",
]
