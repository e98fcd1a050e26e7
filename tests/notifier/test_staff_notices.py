"""A held order's reminder time comes: the staff member who held it and the staff queue are
mailed, and the notice is on the staff list over HTTP, once, whether the notifier learns of
the order before or after the reminder, and however often the reminder is delivered."""

from __future__ import annotations

from email.message import EmailMessage
from uuid import UUID, uuid4

import pytest

from contracts import Actor, ActorKind
from contracts.envelope import Envelope
from tests.apps import bearer
from tests.helpers import eventually
from tests.notifier import events
from tests.notifier.conftest import WAIT, Notifier

QUEUE = "orders-desk@hosting.example"
STELLA = Actor(kind=ActorKind.STAFF, id="stella", name="Stella Staff")


def reminded_first(order: UUID, reminder: Envelope[object], me: str) -> list[Envelope[object]]:
    return [reminder, events.placed(order, me)]  # the order.placed read late: parked


def placed_first(order: UUID, reminder: Envelope[object], me: str) -> list[Envelope[object]]:
    return [events.placed(order, me), reminder, reminder]  # delivered twice


STORIES = {
    "held by a staff member": (STELLA, placed_first),
    "held by a staff member, the reminder read before the order": (STELLA, reminded_first),
    "told before the event named who held it": (None, placed_first),
}


@pytest.mark.parametrize("story", STORIES.values(), ids=STORIES)
async def test_the_staff_member_who_held_it_and_the_queue_are_told(
    notifier: Notifier, story: tuple[Actor | None, object]
) -> None:
    held_by, order_of_facts = story
    order, me = uuid4(), f"c-{uuid4().hex[:8]}"
    reminder = events.hold_reminder_due(order, held_by)
    await notifier.publish(*order_of_facts(order, reminder, me))  # type: ignore[operator]

    async def listed() -> list[dict[str, object]]:
        page = await notifier.get("/staff/notices", bearer("staff", "someone-else"))
        return [n for n in page["items"] if n["order_id"] == str(order)]

    [notice] = await eventually(listed, timeout=WAIT)
    assert notice["kind"] == "hold_reminder"
    assert notice["staff_id"] == (held_by.id if held_by else None)
    assert "waiting for the customer's ID" in notice["text"]
    assert notice["link"] == f"/orders/{order}"

    recipients = [f"{held_by.id}@hosting.example"] if held_by else []
    for address in [*recipients, QUEUE]:
        [mail] = await mails_about(notifier, address, order)
        assert mail["Subject"] == "Reminder: held order r1z7og44 (waiting for the customer's ID)"
    everyone = {m["To"] for m in notifier.mailbox.messages() if str(order) in _text(m)}
    assert everyone == {*recipients, QUEUE}, "the customer is not told"
    assert await listed() == [notice], "told once"


async def mails_about(notifier: Notifier, address: str, order: UUID) -> list[EmailMessage]:
    """The hold reminders about ``order`` mailed to ``address``, once the sender sent them."""

    def found() -> list[EmailMessage]:
        return [
            m
            for m in notifier.mailbox.messages(address)
            if m["X-Notification-Kind"] == "hold_reminder" and str(order) in _text(m)
        ]

    async def sent() -> list[EmailMessage]:
        await notifier.send_mail()
        return found()

    await eventually(sent, timeout=WAIT)
    while await notifier.send_mail():
        pass
    return found()


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    return "" if body is None else str(body.get_content())  # type: ignore[attr-defined]


async def test_the_staff_list_is_for_staff_and_can_show_ones_own(notifier: Notifier) -> None:
    order = uuid4()
    await notifier.publish(
        events.placed(order, f"c-{uuid4().hex[:8]}"), events.hold_reminder_due(order, STELLA)
    )

    async def mine(staff: str) -> list[object]:
        page = await notifier.get("/staff/notices", bearer("staff", staff), mine="true")
        return [n for n in page["items"] if n["order_id"] == str(order)]

    assert len(await eventually(lambda: mine("stella"), timeout=WAIT)) == 1
    assert await mine("someone-else") == []
    customer = await notifier.service.http.get("/staff/notices", headers=bearer("customer", "c-1"))
    assert customer.status_code == 403
