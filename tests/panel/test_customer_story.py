"""The customer's story in a real browser, against the real stack: sign in, see the orders and
the banners, filter and search, renew (one order and a batch), cancel at the end of the
period, open a ticket. Every page visited is photographed and checked by axe-core."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.e2e.story import (
    banner_shown,
    open_incident,
    paid_order,
    place,
    processed_order,
)
from tests.e2e.system import OutsideWorld, System
from tests.panel.browser import Visit, squeeze
from tests.panel.conftest import Panel

pytestmark = pytest.mark.timeout(1200)

SERVED_IP, TROUBLED_IP = "203.0.113.21", "203.0.113.22"
#: The Orders tab sorted oldest first: the story's first orders on its first page.
OLDEST_FIRST = "/orders?sort=created_at&descending=false"


def row(visit: Visit, service_name: str) -> WebElement:
    return visit.find(f"tbody tr[data-service='{service_name}']")


def row_action(visit: Visit, service_name: str, action: str) -> None:
    """Open the row's Actions menu and choose ``action``."""
    found = row(visit, service_name)
    found.find_element(By.CSS_SELECTOR, "details.actions summary").click()
    for link in found.find_elements(By.CSS_SELECTOR, "details.actions a"):
        if link.text.strip().startswith(action):
            visit.click(link)
            return
    raise AssertionError(f"no {action!r} in the Actions menu of {service_name}")


def service_names(visit: Visit) -> set[str]:
    return {str(tr.get_attribute("data-service")) for tr in visit.all("tbody tr")}


async def test_customer_story(
    system: System, world: OutsideWorld, panel: Panel, browser: object
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        served = await processed_order(http, system, world, SERVED_IP)
        troubled = await processed_order(http, system, world, TROUBLED_IP)
        await open_incident(world, system, "inc-panel-1", TROUBLED_IP)
        accepted = await paid_order(http, system, world)
        unpaid = await place(http, system, "vps-m")
        await banner_shown(http, system, troubled["id"], "orders_tab", "incident")
        await banner_shown(http, system, accepted["id"], "orders_tab", "acceptance")
    visit = Visit(browser, panel.url, "customer")  # type: ignore[arg-type]
    name = served["service_name"]

    # Sign in: the local page picks a customer; the session cookie is HttpOnly and SameSite.
    visit.open(OLDEST_FIRST)
    assert visit.driver.current_url.endswith("/sign-in")
    visit.look("sign-in")
    visit.choose("person", "c-ada")
    visit.click_text("Sign in")
    assert visit.shows("Welcome, Ada Lovelace.")
    cookie = visit.driver.get_cookie("panel_session")
    assert cookie is not None
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert "token" not in visit.driver.current_url

    # The dashboard shows the critical incident notice, which cannot be dismissed.
    critical = visit.find(".banner-critical")
    assert "This notice stays until its cause is resolved." in critical.text
    assert not critical.find_elements(By.TAG_NAME, "button")
    visit.look("dashboard")

    # The Orders tab, newest first, in pages (of three in this test).
    visit.click_text("Orders", scope="header")
    assert service_names(visit) == {o["service_name"] for o in (troubled, accepted, unpaid)}
    visit.click_text("Next page")
    assert service_names(visit) == {name}
    visit.click_text("First page")
    assert len(visit.all("tbody tr")) == 3

    # The documents' columns, each status with its colour and label.
    visit.open(OLDEST_FIRST)
    assert service_names(visit) == {o["service_name"] for o in (served, troubled, accepted)}
    headers = [th.text for th in visit.all("thead th")]
    assert headers == [
        "Service", "Plan", "IP address", "Paid until", "Days left", "Status", "Price", "Actions"
    ]  # fmt: skip
    cells = squeeze(row(visit, name).text)
    assert f"{name} vps-s {SERVED_IP}" in cells
    assert "● Processed €4.00" in cells
    assert str(served["days_left"]) in cells
    assert (
        row(visit, accepted["service_name"])
        .find_element(By.CSS_SELECTOR, ".status")
        .text.endswith("In progress")
    )
    assert "status-green" in str(
        row(visit, name).find_element(By.CSS_SELECTOR, ".status").get_attribute("class")
    )
    # Banners on the tab: the incident is critical and stays; the acceptance can be dismissed.
    assert not visit.find(".banner-critical").find_elements(By.TAG_NAME, "button")
    acceptance = visit.find(".banner[data-kind='acceptance']")
    visit.look("orders")
    visit.click(acceptance.find_element(By.TAG_NAME, "button"))
    assert not visit.all(".banner[data-kind='acceptance']")
    assert visit.all(".banner-critical")

    # Extra columns from the "Show:" menu, remembered by the orders service.
    visit.click_text("Show:")
    for column in ("comment", "batch_renewal", "id"):
        visit.find(f"input[name='column'][value='{column}']").click()
    visit.click_text("Save columns")
    visit.open(OLDEST_FIRST)
    headers = [th.text for th in visit.all("thead th")]
    assert headers[:2] == ["Batch renewal", "ID"]
    assert "Comment" in headers
    assert served["id"] in row(visit, name).text

    # Filters and search; an empty result says so.
    visit.select("status", "processed")
    visit.click_text("Apply")
    assert service_names(visit) == {name, troubled["service_name"]}
    visit.look("filtered")
    visit.click_text("Clear filters")
    visit.fill("q", SERVED_IP)
    visit.click_text("Apply")
    assert service_names(visit) == {name}
    visit.fill("q", "no-such-order")
    visit.click_text("Apply")
    assert visit.shows("No order matches these filters.")
    visit.look("empty")

    # Manage: the comment is the customer's own, and search finds it.
    visit.open(OLDEST_FIRST)
    row_action(visit, name, "Manage order")
    visit.fill("comment", "mail server")
    visit.click_text("Save comment")
    assert visit.shows("The comment is saved.")
    visit.open("/orders?q=mail+server")
    assert service_names(visit) == {name}

    # Renew: choose the period, see the price, get the renewal invoice.
    row_action(visit, name, "Renew")
    assert "3 months — €12.00" in squeeze(visit.text())
    visit.look("renew")
    visit.choose("period_months", "3")
    visit.click_text("Renew and issue the invoice")
    assert visit.shows("Renewal invoice issued")
    assert squeeze(visit.text(".total")) == "€12.00"
    visit.look("renewed")

    # Invoices: the first one paid, the renewal open; the menu counts them.
    visit.open(OLDEST_FIRST)
    visit.until(lambda: "Invoices (2)" in str(row(visit, name).get_attribute("textContent")))
    row_action(visit, name, "Invoices")
    assert sorted(tr.text.split()[-1] for tr in visit.all("tbody tr")) == ["Open", "Paid"]
    visit.look("invoices")

    # Batch renewal from the checkboxes: one invoice for both orders.
    visit.open(OLDEST_FIRST)
    for order in (served, troubled):
        visit.find(f"input[form='batch'][value='{order['id']}']").click()
    visit.click_text("Renew the ticked orders")
    assert visit.shows("Batch renewal")
    visit.look("batch-renewal")
    visit.click_text("Renew all and issue one invoice")
    assert squeeze(visit.text(".total")) == "€8.00"

    # Cancel at the end of the paid period, after a confirmation.
    visit.open(OLDEST_FIRST)
    row_action(visit, name, "Cancel")
    visit.choose("when", "period_end")
    visit.fill("reason", "Moving to a bigger plan")
    visit.click_text("Continue")
    assert visit.shows("will end at the end of its paid period")
    assert visit.shows("Reason: Moving to a bigger plan")
    visit.look("cancel-confirm")
    visit.click_text("Yes, cancel the order")
    assert visit.shows("The order ends at the end of its paid period.")
    assert visit.shows("Ends on")
    visit.look("cancel-scheduled")

    # A ticket about the order, from its Actions menu.
    visit.open(OLDEST_FIRST)
    row_action(visit, name, "Create ticket")
    visit.fill("subject", "Reverse DNS")
    visit.fill("message", f"Please set the PTR record of {SERVED_IP} to mail.example.com.")
    visit.look("ticket-form")
    visit.click_text("Send to support")
    assert visit.shows("Your ticket is open")
    assert visit.text("h1") == "Reverse DNS"
    assert visit.shows("mail.example.com")
    visit.look("ticket")

    # The tab at the end of the story: the chosen columns, the cancellation to come.
    visit.open(OLDEST_FIRST)
    assert "Ends on" in row(visit, name).text
    visit.look("orders-at-the-end")
