"""Support tickets: one confirming each acceptance (with its mail), customers' own tickets about
their orders, staff reading all and replying; ``ticket.opened`` published."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from contracts import TicketOpened, TicketReason
from services.kit.clock import FrozenClock
from tests.apps import bearer
from tests.helpers import eventually
from tests.notifier import events
from tests.notifier.conftest import WAIT, Notifier


async def accepted_order(notifier: Notifier, customer: str, locale: str = "en") -> tuple:
    order = uuid4()
    await notifier.publish(events.placed(order, customer, locale=locale), events.accepted(order))

    async def ticket() -> list:
        return (await notifier.get("/tickets", bearer("customer", customer)))["items"]

    [found] = await eventually(ticket, timeout=WAIT)
    return order, found


async def test_acceptance_opens_a_ticket_and_sends_a_mail(notifier: Notifier) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    order, ticket = await accepted_order(notifier, customer, locale="de")
    assert ticket["reason"] == "acceptance"
    assert ticket["order_id"] == str(order)
    assert ticket["subject"] == "Bestellung r1z7og44 angenommen"
    [mail] = await notifier.mails_to(f"{customer}@example.com", 1)
    assert mail["Subject"] == "r1z7og44: Ihre Bestellung ist angenommen"
    html = mail.get_body(("html",)).get_content()
    assert "Support-Ticket" in html
    assert f"/orders/{order}" in html

    async def published() -> list[TicketOpened]:
        return [
            e
            for e in await notifier.events()
            if isinstance(e, TicketOpened) and e.order_id == order
        ]

    [event] = await eventually(published, timeout=WAIT)
    assert event.data.reason is TicketReason.ACCEPTANCE
    assert str(event.data.ticket_id) == ticket["id"]


async def test_customers_open_read_and_list_only_their_own_tickets(
    notifier: Notifier, clock: FrozenClock
) -> None:
    customer, other = f"c-{uuid4().hex[:8]}", f"o-{uuid4().hex[:8]}"
    order, _ = await accepted_order(notifier, customer)
    other_order, _ = await accepted_order(notifier, other)
    clock.advance(timedelta(minutes=5))
    mine, theirs = bearer("customer", customer), bearer("customer", other)
    request = {"order_id": str(order), "subject": "Reverse DNS", "message": "Please set PTR."}

    headers = {**mine, "Idempotency-Key": f"k-{uuid4()}"}
    created = await notifier.service.http.post("/tickets", json=request, headers=headers)
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert (ticket["reason"], ticket["subject"]) == ("customer", "Reverse DNS")
    assert [m["body"] for m in ticket["messages"]] == ["Please set PTR."]
    again = await notifier.service.http.post("/tickets", json=request, headers=headers)
    assert (again.status_code, again.json()["id"]) == (201, ticket["id"])
    reused = await notifier.service.http.post(
        "/tickets", json={**request, "subject": "Other"}, headers=headers
    )
    assert reused.status_code == 422

    foreign = await notifier.service.http.post(
        "/tickets", json={**request, "order_id": str(other_order)}, headers=mine
    )
    assert foreign.status_code == 404
    unknown = await notifier.service.http.post(
        "/tickets", json={**request, "order_id": str(uuid4())}, headers=mine
    )
    assert unknown.status_code == 404
    empty = await notifier.service.http.post(
        "/tickets", json={**request, "subject": ""}, headers=mine
    )
    assert empty.status_code == 422

    listed = await notifier.get("/tickets", mine)
    assert [t["reason"] for t in listed["items"]] == ["customer", "acceptance"]
    assert (
        await notifier.service.http.get(f"/tickets/{ticket['id']}", headers=theirs)
    ).status_code == 404
    assert ticket["id"] not in {t["id"] for t in (await notifier.get("/tickets", theirs))["items"]}


async def test_staff_list_every_ticket_and_reply(notifier: Notifier, clock: FrozenClock) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    _, ticket = await accepted_order(notifier, customer)
    clock.advance(timedelta(minutes=5))  # messages are in time order; a frozen clock ties them
    staff = bearer("staff", "s-1", name="Sam Support")

    page = await notifier.get("/tickets", staff, limit=1)
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    seen, cursor = set(), None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await notifier.get("/tickets", staff, **params)
        seen |= {t["id"] for t in page["items"]}
        if not (cursor := page["next_cursor"]):
            break
    assert ticket["id"] in seen

    replied = await notifier.service.http.post(
        f"/tickets/{ticket['id']}/messages", json={"body": "We are on it."}, headers=staff
    )
    assert replied.status_code == 201, replied.text
    messages = replied.json()["messages"]
    assert [(m["author_kind"], m["author_name"]) for m in messages] == [
        ("system", "Support"),
        ("staff", "Sam Support"),
    ]
    read = await notifier.get(f"/tickets/{ticket['id']}", bearer("customer", customer))
    assert read["messages"][-1]["body"] == "We are on it."
    refused = await notifier.service.http.post(
        "/tickets",
        json={"order_id": ticket["order_id"], "subject": "x", "message": "y"},
        headers=staff,
    )
    assert refused.status_code == 403
    bad_cursor = await notifier.service.http.get("/tickets?cursor=nonsense", headers=staff)
    assert bad_cursor.status_code == 422
