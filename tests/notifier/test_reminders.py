"""Renewal reminders: each once, on its day, in the customer's language, as the clock moves."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

from services.kit.clock import FrozenClock
from services.notifier.jobs import REMINDERS
from tests.apps import bearer
from tests.helpers import eventually
from tests.notifier import events
from tests.notifier.conftest import WAIT, Notifier
from tests.notifier.events import AT

PAID_UNTIL = date(2025, 4, 30)


async def test_each_reminder_once_on_its_day_in_the_customers_language(
    notifier: Notifier, clock: FrozenClock
) -> None:
    customers = {
        "de": f"de-{uuid4().hex[:6]}",
        "pl": f"pl-{uuid4().hex[:6]}",
        "fr": f"fr-{uuid4().hex[:6]}",
    }
    orders = {}
    for locale, customer in customers.items():
        orders[locale] = uuid4()
        await notifier.publish(
            events.placed(orders[locale], customer, locale=locale, service=f"svc-{locale}"),
            events.completed(orders[locale], paid_until=PAID_UNTIL),
        )
    sent_by_day: dict[int, int] = {}

    async def run_day(days_before: int) -> int:
        clock.set(AT.replace(year=2025, month=4, day=30) - timedelta(days=days_before))
        return (await notifier.service.runtime.jobs.run_once(REMINDERS)) or 0

    async def all_known() -> bool:
        return (
            await run_day(20) == 0
            and await notifier.scalar(
                "SELECT count(*) FROM orders WHERE status = 'processed'"
                f" AND order_id IN ({', '.join(repr(str(o)) for o in orders.values())})"
            )
            == 3
        )

    await eventually(all_known, timeout=WAIT)
    for days_before in range(16, -3, -1):
        sent_by_day[days_before] = await run_day(days_before)
        assert await run_day(days_before) == 0, "a second pass on the same day sends nothing"
    assert {day: n for day, n in sent_by_day.items() if n} == {14: 3, 7: 3, 3: 3, 1: 3}

    german = await notifier.mails_to(f"{customers['de']}@example.com", 4)
    assert sorted(m["Subject"] for m in german) == sorted(
        [
            "svc-de: Verlängerung in 14 Tagen fällig",
            "svc-de: Verlängerung in 7 Tagen fällig",
            "svc-de: Verlängerung in 3 Tagen fällig",
            "svc-de: Verlängerung in 1 Tag fällig",
        ]
    )
    polish = await notifier.mails_to(f"{customers['pl']}@example.com", 4)
    assert "svc-pl: odnowienie za 1 dzień" in {m["Subject"] for m in polish}
    french = await notifier.mails_to(f"{customers['fr']}@example.com", 4)
    assert "svc-fr: renewal due in 7 days" in {m["Subject"] for m in french}, "English fallback"
    body = french[0].get_body(("plain",)).get_content()
    assert "paid until 2025-04-30" in body
    assert "/renew" in body

    # One reminder banner at a time: the newest one replaced the others.
    [banner] = (
        await notifier.get("/banners", bearer("customer", customers["de"]), placement="dashboard")
    )["items"]
    assert banner["kind"] == "renewal_reminder"
    assert banner["severity"] == "warning"


async def test_renewal_resolves_the_reminder_and_the_next_period_is_reminded_again(
    notifier: Notifier, clock: FrozenClock
) -> None:
    customer, order = f"c-{uuid4().hex[:6]}", uuid4()
    clock.set(AT)
    await notifier.publish(
        events.placed(order, customer), events.completed(order, paid_until=date(2025, 3, 10))
    )

    async def reminded() -> int:
        return (await notifier.service.runtime.jobs.run_once(REMINDERS)) or 0

    assert await eventually(reminded, timeout=WAIT) == 1  # 9 days left: the 14-day reminder
    headers = bearer("customer", customer)
    [reminder] = (await notifier.get("/banners", headers, placement="orders_tab"))["items"]
    assert reminder["kind"] == "renewal_reminder"
    await notifier.publish(events.renewed(order, paid_until=date(2025, 4, 10)))

    async def resolved() -> bool:
        return (await notifier.get("/banners", headers, placement="orders_tab"))["items"] == []

    await eventually(resolved, timeout=WAIT)
    assert await reminded() == 0, "the new period is 40 days away"
    clock.set(AT + timedelta(days=40 - 7))
    assert await reminded() == 1
    subjects = [m["Subject"] for m in await notifier.mails_to(f"{customer}@example.com", 2)]
    assert sorted(subjects) == [
        "r1z7og44: renewal due in 7 days",
        "r1z7og44: renewal due in 9 days",
    ]
