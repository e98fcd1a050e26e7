"""Critical notices as banner and mail, banners resolving with their cause and dismissing."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

from services.kit.clock import FrozenClock
from services.kit.parking import EXPIRE_PARKED
from tests.apps import bearer
from tests.helpers import eventually, read_topic
from tests.notifier import events
from tests.notifier.conftest import WAIT, Notifier


async def banners(notifier: Notifier, customer: str, placement: str) -> list[dict]:
    page = await notifier.get("/banners", bearer("customer", customer), placement=placement)
    return page["items"]


async def banner_appears(
    notifier: Notifier, customer: str, kind: str, placement: str = "dashboard"
) -> dict:
    async def shown() -> dict | None:
        found = [b for b in await banners(notifier, customer, placement) if b["kind"] == kind]
        return found[0] if found else None

    return await eventually(shown, timeout=WAIT)


async def banner_gone(notifier: Notifier, customer: str, banner_id: str) -> None:
    async def gone() -> bool:
        shown = await banners(notifier, customer, "dashboard")
        return banner_id not in {b["id"] for b in shown}

    await eventually(gone, timeout=WAIT)


async def active_order(notifier: Notifier, customer: str, locale: str = "en") -> UUID:
    """An order placed, accepted and completed, once the notifier has seen it all: the
    acceptance ticket is there and the acceptance banner went with the completion."""
    order = uuid4()
    await notifier.publish(
        events.placed(order, customer, locale=locale, service=f"srv{customer[-4:]}"),
        events.accepted(order),
        events.completed(order, paid_until=date(2025, 6, 30), ip=f"198.51.100.{len(customer)}"),
    )

    async def completed() -> bool:
        tickets = await notifier.get("/tickets", bearer("customer", customer))
        return bool(tickets["items"]) and await banners(notifier, customer, "orders_tab") == []

    await eventually(completed, timeout=WAIT)
    return order


async def test_suspension_is_a_critical_banner_and_mail_until_reactivation(
    notifier: Notifier,
) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    order = await active_order(notifier, customer, locale="pl")
    await notifier.publish(events.suspended(order))

    banner = await banner_appears(notifier, customer, "suspension_non_payment")
    assert banner["severity"] == "critical"
    assert banner["placement"] == "both"
    assert banner["dismissible"] is False
    assert banner["order_id"] == str(order)
    assert "zawieszona" in banner["text"], "in the customer's language (Polish)"
    assert banner["id"] in {b["id"] for b in await banners(notifier, customer, "orders_tab")}
    [mail] = await notifier.mails_to(f"{customer}@example.com", 1, kind=banner["kind"])
    assert mail["Subject"] == f"srv{customer[-4:]} zawieszona: nieopłacona faktura"
    assert mail.get_body(("plain",)) is not None
    assert mail.get_body(("html",)) is not None

    refused = await notifier.service.http.post(
        f"/banners/{banner['id']}/dismiss", headers=bearer("customer", customer)
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"

    await notifier.publish(events.reactivated(order))
    await banner_gone(notifier, customer, banner["id"])


async def test_overdue_invoice_warns_until_paid_and_may_be_dismissed(notifier: Notifier) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    order = await active_order(notifier, customer, locale="de")
    first, second = uuid4(), uuid4()
    await notifier.publish(events.overdue(order, first, customer))
    banner = await banner_appears(notifier, customer, "invoice_overdue")
    assert banner["severity"] == "warning"
    assert banner["dismissible"] is True
    assert "überfällig" in banner["text"]
    [mail] = await notifier.mails_to(f"{customer}@example.com", 1, kind=banner["kind"])
    assert "Rechnung INV-2025-0042 ist überfällig" in mail["Subject"]

    someone_else = await notifier.service.http.post(
        f"/banners/{banner['id']}/dismiss", headers=bearer("customer", "somebody-else")
    )
    assert someone_else.status_code == 404
    assert banner["id"] not in {
        b["id"] for b in await banners(notifier, "somebody-else", "dashboard")
    }
    dismissed = await notifier.service.http.post(
        f"/banners/{banner['id']}/dismiss", headers=bearer("customer", customer)
    )
    assert dismissed.status_code == 204
    assert await banners(notifier, customer, "dashboard") == []

    await notifier.publish(events.overdue(order, second, customer))
    again = await eventually(lambda: banners(notifier, customer, "orders_tab"), timeout=WAIT)
    await notifier.publish(events.paid(order, second, customer))
    await banner_gone(notifier, customer, again[0]["id"])


async def test_incident_by_main_ip_is_told_and_cleared_when_resolved(notifier: Notifier) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    await active_order(notifier, customer)
    incident = f"inc-{uuid4().hex[:6]}"
    await notifier.publish(events.incident(incident, ip=f"198.51.100.{len(customer)}"))
    banner = await banner_appears(notifier, customer, "incident")
    assert banner["severity"] == "critical"
    [mail] = await notifier.mails_to(f"{customer}@example.com", 1, kind="incident")
    assert mail["Subject"].endswith("server incident")
    assert "Disk failure on the host" in mail.get_body(("plain",)).get_content()

    await notifier.publish(events.incident_resolved(incident))
    await banner_gone(notifier, customer, banner["id"])


async def test_cancellation_replaces_the_orders_banners_and_is_dismissible(
    notifier: Notifier,
) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    order = await active_order(notifier, customer)
    await notifier.publish(events.suspended(order, violation=True))
    suspension = await banner_appears(notifier, customer, "suspension_violation")
    await notifier.publish(events.cancelled(order))
    await banner_gone(notifier, customer, suspension["id"])

    async def cancellation() -> list[dict]:
        return await banners(notifier, customer, "orders_tab")

    [banner] = await eventually(cancellation, timeout=WAIT)
    assert (banner["kind"], banner["dismissible"]) == ("cancellation", True)
    mails = await notifier.mails_to(f"{customer}@example.com", 3)
    assert {m["Subject"] for m in mails} >= {
        f"srv{customer[-4:]} is suspended: violation of terms",
        f"srv{customer[-4:]} is cancelled",
    }


async def test_an_event_before_its_order_is_kept_until_the_order_is_known(
    notifier: Notifier,
) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    order = uuid4()
    await notifier.publish(events.overdue(order, uuid4(), customer))
    parked = f"SELECT count(*) FROM parked_events WHERE order_id = '{order}'"
    await eventually(lambda: notifier.scalar(parked), timeout=WAIT)
    await notifier.publish(events.placed(order, customer))
    banner = await banner_appears(notifier, customer, "invoice_overdue")
    assert banner["order_id"] == str(order)
    await notifier.mails_to(f"{customer}@example.com", 1)
    assert await notifier.scalar(parked) == 0


async def test_an_event_whose_order_never_comes_is_dead_lettered_after_the_configured_time(
    notifier: Notifier, clock: FrozenClock
) -> None:
    order = uuid4()
    early = events.overdue(order, uuid4(), f"c-{uuid4().hex[:8]}")
    await notifier.publish(early)
    parked = f"SELECT count(*) FROM parked_events WHERE order_id = '{order}'"
    await eventually(lambda: notifier.scalar(parked), timeout=WAIT)
    clock.advance(notifier.service.settings.parked_max_age + timedelta(seconds=1))
    assert await notifier.service.runtime.jobs.run_once(EXPIRE_PARKED) == 1
    assert await notifier.scalar(parked) == 0
    dlq = await read_topic(notifier.stack.kafka_bootstrap, notifier.prefix + "billing.events.dlq")
    [headers] = [h for _, value, h in dlq if str(early.event_id).encode() in value]
    assert headers["x-dlq-kind"] == b"parked_expired"
    assert headers["x-dlq-consumer"] == b"notifier"


async def test_invoice_reminder_is_mailed_once_in_their_language_until_paid(
    notifier: Notifier,
) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    order = await active_order(notifier, customer, locale="de")
    invoice = uuid4()
    # The same reminder twice (a billing pass repeated), then the one after the due date.
    await notifier.publish(
        events.reminder_due(order, invoice, customer, -3),
        events.reminder_due(order, invoice, customer, -3),
    )
    banner = await banner_appears(notifier, customer, "invoice_reminder", "orders_tab")
    assert (banner["severity"], banner["placement"]) == ("warning", "both")
    assert (
        banner["text"] == f"Rechnung INV-2025-0042 für srv{customer[-4:]} ist am 2025-03-04 fällig."
    )
    assert await banners(notifier, customer, "dashboard") == [banner], "on the dashboard too"
    [mail] = await notifier.mails_to(f"{customer}@example.com", 1, kind="invoice_reminder")
    assert mail["Subject"] == f"srv{customer[-4:]}: Rechnung INV-2025-0042 ist am 2025-03-04 fällig"

    await notifier.publish(events.reminder_due(order, invoice, customer, 3))
    mails = await notifier.mails_to(f"{customer}@example.com", 2, kind="invoice_reminder")
    assert {m["Subject"] for m in mails} == {
        f"srv{customer[-4:]}: Rechnung INV-2025-0042 ist am 2025-03-04 fällig",
        f"srv{customer[-4:]}: Rechnung INV-2025-0042 war am 2025-03-04 fällig",
    }
    await notifier.publish(events.paid(order, invoice, customer))

    async def resolved() -> bool:
        return await banners(notifier, customer, "orders_tab") == []

    await eventually(resolved, timeout=WAIT)
    assert await notifier.send_mail() == 0
    assert len(notifier.mailbox.messages(f"{customer}@example.com")) == 3, "acceptance + 2"
