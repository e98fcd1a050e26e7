"""The back office's story in a real browser, against the real stack: find the order, see a
refused action explained, hold it with a reminder, add a journal entry, see the journal
verified and export it. Then a service goes down, and the page says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.e2e.story import BOB, invoices_of, order_in, pay, place
from tests.e2e.system import OutsideWorld, System
from tests.helpers import eventually
from tests.panel.browser import Visit, squeeze
from tests.panel.conftest import Panel

pytestmark = pytest.mark.timeout(1200)

REASON = "Waiting for the customer's ID documents"


async def bobs_paid_order(system: System, world: OutsideWorld) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        order = await place(http, system, "vps-s", who=BOB)

        async def invoice() -> Any:
            return (await invoices_of(http, system, order["id"], who=BOB) or [None])[0]

        await pay(world, system, await eventually(invoice, timeout=90, interval=0.5))
        return dict(await order_in(http, system, order["id"], "in_progress", who=BOB))


def sign_in_as_staff(visit: Visit) -> None:
    visit.open("/sign-in")
    visit.choose("person", "s-grace")
    visit.click_text("Sign in")
    assert visit.driver.current_url.endswith("/staff")


def journal_kinds(visit: Visit) -> list[str]:
    return [str(li.get_attribute("data-kind")) for li in visit.all("ol.entries li.entry")]


async def test_staff_story(
    system: System, world: OutsideWorld, panel: Panel, browser: object
) -> None:
    order = await bobs_paid_order(system, world)
    visit = Visit(browser, panel.url, "staff")  # type: ignore[arg-type]
    sign_in_as_staff(visit)

    # Find the order by its customer, then by its service name.
    visit.fill("customer", "c-bob")
    visit.click_text("Find")
    assert order["service_name"] in visit.text("table")
    visit.fill("customer", "")
    visit.fill("service_name", order["service_name"])
    visit.click_text("Find")
    assert len(visit.all("tbody tr")) == 1
    visit.look("find")
    visit.click_text(order["service_name"])

    # The header: customer, status, ID; the journal so far holds only system entries.
    header = squeeze(visit.text(".header"))
    assert "Customer Bob (c-bob)" in header
    assert order["id"] in header
    assert "In progress" in header
    visit.until(lambda: len(journal_kinds(visit)) >= 2)
    assert set(journal_kinds(visit)) == {"system"}

    # A refused action says why, next to its form.
    visit.fill("contract", "PKG-VPS-S", scope="#complete")
    visit.fill("main_ip", "300.1.2.3", scope="#complete")
    visit.driver.execute_script(
        "arguments[0].value = arguments[1]",
        visit.find("#complete [name='starts_on']"),
        system.now().date().isoformat(),
    )
    visit.click(visit.find("#complete button"))
    problem = visit.find("#complete .problem")
    assert "Main IP address: value is not a valid IPv4 or IPv6 address" in problem.text
    visit.look("refused")

    # Hold with a reason and a reminder.
    remind_at = (system.now() + timedelta(days=3)).replace(hour=9, minute=30)
    visit.fill("reason", REASON, scope="#hold")
    visit.driver.execute_script(
        "arguments[0].value = arguments[1]",
        visit.find("#hold [name='remind_at']"),
        remind_at.strftime("%Y-%m-%dT%H:%M"),
    )
    visit.click(visit.find("#hold button"))
    assert visit.shows("The order is on hold.")
    header = squeeze(visit.text(".header"))
    assert "On hold" in header
    assert f"Held because {REASON}" in header
    assert "Held by Grace" in header
    assert f"{remind_at:%b} {remind_at.day}, {remind_at.year}, 9:30:00" in header
    visit.until(lambda: visit.shows(f"Put on hold: {REASON}", ".journal"))

    # "+": a staff entry, told apart from the system's; newest first.
    visit.click_text("+ Add an entry")
    visit.fill("title", "Called the customer")
    visit.fill("details", "Documents promised by Friday.")
    visit.click_text("Add to the journal")
    assert visit.shows("The entry is added to the journal.")
    first = visit.find("ol.entries li.entry")
    assert first.get_attribute("data-kind") == "staff"
    assert first.find_element(By.CSS_SELECTOR, ".kind").get_attribute("textContent") == "Staff"
    assert "Called the customer" in first.text
    assert "Documents promised by Friday." in first.text
    assert "system" in journal_kinds(visit)

    # Verified, and exported with the session the browser holds.
    verification = visit.find(".verification")
    assert verification.get_attribute("data-verification") == "whole"
    assert "Verified: the journal is complete and untampered" in verification.text
    visit.look("order")
    cookie = visit.driver.get_cookie("panel_session")
    assert cookie is not None
    export_link = visit.find(".journal a[href$='format=csv']").get_attribute("href")
    async with httpx.AsyncClient(timeout=10, cookies={cookie["name"]: cookie["value"]}) as http:
        exported = await http.get(str(export_link))
    assert exported.status_code == 200
    assert "Called the customer" in exported.text
    assert "order.held" in exported.text

    # Release: back to where it was.
    visit.click(visit.find("#release button"))
    assert visit.shows("The order is released.")
    assert "In progress" in visit.text(".header")
    assert not visit.all("#release")


async def test_a_service_down_has_its_own_page(
    system: System, panel: Panel, browser: object
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        await place(http, system, "vps-s", who=BOB)  # an order to look at, whatever ran before
    visit = Visit(browser, panel.url, "down")  # type: ignore[arg-type]
    sign_in_as_staff(visit)
    visit.fill("customer", "c-bob")
    visit.click_text("Find")
    order_page = str(visit.find("tbody a").get_attribute("href"))

    async def journaled() -> bool:
        visit.driver.get(order_page)
        return bool(visit.all("ol.entries li.entry"))

    await eventually(journaled, timeout=90)
    system.kill("audit")
    try:
        visit.driver.get(order_page)
        assert visit.text("h1") == "Temporarily unavailable"
        assert visit.shows("The audit service is not answering right now. Nothing was changed.")
        assert "Traceback" not in visit.driver.page_source
        visit.look("audit-down")
    finally:
        system.start_one("audit")
        await system.wait_ready(timeout=600, only=["audit"])
    visit.driver.get(order_page)
    assert visit.find(".journal").is_displayed()
    assert visit.find("ol.entries").find_elements(By.TAG_NAME, "li")
