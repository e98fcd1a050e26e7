"""The short line each system entry shows, in English, German and Polish.

Pure functions of the event's data. They name services, amounts, invoices and reasons, never a
person (names stay out of the hashed content; see `services.audit.domain`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts import Envelope, Money
from services.audit.domain import Summary


def _money(value: Money) -> str:
    return f"{value.amount} {value.currency}"


def _placed(d: Any) -> Summary:
    what = f"{d.service_name} ({d.product}, {d.plan}, {_money(d.price)}/{d.period_months} mo)"
    return Summary(
        f"Order placed: {what}", f"Bestellung aufgegeben: {what}", f"Złożono zamówienie: {what}"
    )


def _completed(d: Any) -> Summary:
    what = f"{d.contract}, {d.main_ip}, start {d.starts_on}"
    return Summary(
        f"Order completed: {what}", f"Bestellung abgeschlossen: {what}", f"Zrealizowano: {what}"
    )


def _held(d: Any) -> Summary:
    return Summary(f"Put on hold: {d.reason}", f"Angehalten: {d.reason}", f"Wstrzymano: {d.reason}")


def _hold_reminder(d: Any) -> Summary:
    at = f"{d.remind_at:%Y-%m-%d %H:%M} UTC"
    return Summary(
        f"Hold reminder due ({at})", f"Erinnerung fällig ({at})", f"Przypomnienie ({at})"
    )


def _reason(text: str | None) -> str:
    return f": {text}" if text else ""


def _cancel_scheduled(d: Any) -> Summary:
    at = f"{d.effective_at:%Y-%m-%d}"
    return Summary(
        f"Cancellation scheduled for {at}{_reason(d.reason)}",
        f"Kündigung zum {at} vorgemerkt{_reason(d.reason)}",
        f"Zaplanowano anulowanie na {at}{_reason(d.reason)}",
    )


def _cancel_revoked(d: Any) -> Summary:
    return Summary("Scheduled cancellation revoked", "Kündigung widerrufen", "Cofnięto anulowanie")


def _cancelled(d: Any) -> Summary:
    return Summary(
        f"Order cancelled ({d.mode}){_reason(d.reason)}",
        f"Bestellung storniert ({d.mode}){_reason(d.reason)}",
        f"Anulowano zamówienie ({d.mode}){_reason(d.reason)}",
    )


def _suspended(d: Any) -> Summary:
    return Summary(
        f"Suspended ({d.cause}){_reason(d.reason)}",
        f"Gesperrt ({d.cause}){_reason(d.reason)}",
        f"Zawieszono ({d.cause}){_reason(d.reason)}",
    )


def _reactivated(d: Any) -> Summary:
    if d.status not in (None, "processed"):  # another cause still suspends the order
        return Summary(
            f"Suspension lifted ({d.cause}), still {d.status}",
            f"Sperre aufgehoben ({d.cause}), weiterhin {d.status}",
            f"Zniesiono zawieszenie ({d.cause}), nadal {d.status}",
        )
    return Summary(
        f"Reactivated ({d.cause} lifted)",
        f"Reaktiviert ({d.cause} aufgehoben)",
        f"Przywrócono ({d.cause} zniesione)",
    )


def _renewal_requested(d: Any) -> Summary:
    n = len(d.items)
    return Summary(
        f"Renewal requested ({n} order(s))",
        f"Verlängerung angefordert ({n} Bestellung(en))",
        f"Zlecono odnowienie ({n} zamówień)",
    )


def _renewed(d: Any) -> Summary:
    return Summary(
        f"Renewed by {d.period_months} mo, paid until {d.paid_until}",
        f"Um {d.period_months} Mon. verlängert, bezahlt bis {d.paid_until}",
        f"Odnowiono o {d.period_months} mies., opłacone do {d.paid_until}",
    )


def _invoice(en: str, de: str, pl: str) -> Callable[[Any], Summary]:
    def summary(d: Any) -> Summary:
        what = f"{d.number}" + (f", {_money(d.total)}" if hasattr(d, "total") else "")
        return Summary(f"{en} {what}", f"{de} {what}", f"{pl} {what}")

    return summary


def _overdue(d: Any) -> Summary:
    return Summary(
        f"Invoice {d.number} overdue ({d.stage}, {d.days_overdue} days)",
        f"Rechnung {d.number} überfällig ({d.stage}, {d.days_overdue} Tage)",
        f"Faktura {d.number} przeterminowana ({d.stage}, {d.days_overdue} dni)",
    )


def _reminder_due(d: Any) -> Summary:
    due = f"{d.due_on:%Y-%m-%d}"
    return Summary(
        f"Payment reminder due for invoice {d.number} ({_money(d.total)}, due {due})",
        f"Zahlungserinnerung für Rechnung {d.number} fällig ({_money(d.total)}, fällig {due})",
        f"Przypomnienie o fakturze {d.number} ({_money(d.total)}, termin {due})",
    )


def _payment(en: str, de: str, pl: str) -> Callable[[Any], Summary]:
    def summary(d: Any) -> Summary:
        what = f"{_money(d.amount)} ({d.payment_id})"
        return Summary(f"{en}: {what}", f"{de}: {what}", f"{pl}: {what}")

    return summary


#: Kinds of notice the notifier sends staff, not the customer (a held order's reminder).
STAFF_NOTICE_KINDS = frozenset({"hold_reminder"})


def _notification(en: str, de: str, pl: str) -> Callable[[Any], Summary]:
    def summary(d: Any) -> Summary:
        what = f"{d.kind}, {d.channel}"
        return Summary(f"{en} ({what})", f"{de} ({what})", f"{pl} ({what})")

    return summary


def _delivered_notification(d: Any) -> Summary:
    if d.kind in STAFF_NOTICE_KINDS:
        return _notification("Staff notified", "Personal benachrichtigt", "Powiadomiono obsługę")(d)
    return _notification("Customer notified", "Kunde benachrichtigt", "Powiadomiono klienta")(d)


def _ticket(d: Any) -> Summary:
    return Summary(
        f"Support ticket opened ({d.reason})",
        f"Support-Ticket eröffnet ({d.reason})",
        f"Otwarto zgłoszenie ({d.reason})",
    )


def _delivered(d: Any) -> Summary:
    return Summary(
        f"Service delivered: {d.main_ip}", f"Dienst bereitgestellt: {d.main_ip}",
        f"Dostarczono usługę: {d.main_ip}",
    )  # fmt: skip


def _violation(en: str, de: str, pl: str) -> Callable[[Any], Summary]:
    def summary(d: Any) -> Summary:
        return Summary(f"{en} ({d.case_id})", f"{de} ({d.case_id})", f"{pl} ({d.case_id})")

    return summary


def _exemption(d: Any) -> Summary:
    if d.exempt:
        return Summary(
            f"Customer exempted from dunning: {d.reason}",
            f"Kunde vom Mahnwesen ausgenommen: {d.reason}",
            f"Klient zwolniony z windykacji: {d.reason}",
        )
    return Summary(
        "Dunning exemption ended",
        "Ausnahme vom Mahnwesen beendet",
        "Koniec zwolnienia z windykacji",
    )


def _incident_opened(d: Any) -> Summary:
    what = f"{d.severity}: {d.summary}"
    return Summary(f"Incident opened, {what}", f"Störung gemeldet, {what}", f"Awaria, {what}")


def _incident_resolved(d: Any) -> Summary:
    i = d.incident_id
    return Summary(f"Incident {i} resolved", f"Störung {i} behoben", f"Awaria {i} usunięta")


def _fixed(en: str, de: str, pl: str) -> Callable[[Any], Summary]:
    return lambda _: Summary(en, de, pl)


SUMMARIES: dict[str, Callable[[Any], Summary]] = {
    "order.placed": _placed,
    "order.accepted": _fixed(
        "Order accepted for processing", "Bestellung angenommen", "Przyjęto zamówienie"
    ),
    "order.completed": _completed,
    "order.held": _held,
    "order.released": _fixed("Released from hold", "Freigegeben", "Zwolniono wstrzymanie"),
    "order.hold_reminder_due": _hold_reminder,
    "order.cancellation_scheduled": _cancel_scheduled,
    "order.cancellation_revoked": _cancel_revoked,
    "order.cancelled": _cancelled,
    "order.suspended": _suspended,
    "order.reactivated": _reactivated,
    "order.renewal_requested": _renewal_requested,
    "order.renewed": _renewed,
    "order.comment_changed": _fixed("Comment changed", "Kommentar geändert", "Zmieniono komentarz"),
    "invoice.issued": _invoice("Invoice issued:", "Rechnung ausgestellt:", "Wystawiono fakturę:"),
    "invoice.paid": _invoice("Invoice paid:", "Rechnung bezahlt:", "Opłacono fakturę:"),
    "invoice.overdue": _overdue,
    "invoice.reminder_due": _reminder_due,
    "invoice.voided": _invoice("Invoice voided:", "Rechnung storniert:", "Anulowano fakturę:"),
    "payment.recorded": _payment("Payment recorded", "Zahlung verbucht", "Zaksięgowano płatność"),
    "dunning.exemption_changed": _exemption,
    "payment.received": _payment("Payment received", "Zahlung eingegangen", "Otrzymano płatność"),
    "payment.failed": _payment("Payment failed", "Zahlung fehlgeschlagen", "Płatność nieudana"),
    "notification.delivered": _delivered_notification,
    "notification.failed": _notification(
        "Notification failed", "Benachrichtigung fehlgeschlagen", "Powiadomienie nieudane"
    ),
    "ticket.opened": _ticket,
    "service.delivered": _delivered,
    "violation.confirmed": _violation(
        "Violation confirmed", "Verstoß bestätigt", "Potwierdzono naruszenie"
    ),
    "violation.lifted": _violation(
        "Violation lifted", "Verstoß aufgehoben", "Zniesiono naruszenie"
    ),
    "incident.opened": _incident_opened,
    "incident.resolved": _incident_resolved,
}


def summarize(event: Envelope[Any]) -> Summary:
    """The summary of an event; a type without its own line (a newer contract) names its type."""
    render = SUMMARIES.get(event.type)
    if render is None:
        return Summary(event.type, event.type, event.type)
    return render(event.data)
