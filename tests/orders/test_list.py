"""The order list: filters, search, sorting, keyset paging, the saved "Show:" columns and the
staff list over every customer."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.orders.support import STAFF, Orders, customer, customer_id


async def _ids(orders: Orders, who: dict[str, str], **params: Any) -> list[str]:
    response = await orders.http.get("/orders", params=params, headers=who)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["items"]]


async def _place_over_days(
    orders: Orders, who: dict[str, str], bodies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    placed = []
    for body in bodies:
        orders.clock.advance(timedelta(days=1))
        placed.append(await orders.place(who, **body))
    return placed


async def test_keyset_pages_cover_every_order_once_in_each_sort(orders: Orders) -> None:
    me = customer()
    placed = await _place_over_days(orders, me, [{} for _ in range(5)])
    newest_first = [order["id"] for order in reversed(placed)]
    for sort, descending, expected in [
        ("created_at", True, newest_first),
        ("created_at", False, newest_first[::-1]),
        ("service_name", False, [o["id"] for o in sorted(placed, key=lambda o: o["service_name"])]),
    ]:
        seen, cursor = [], None
        while True:
            params = {"limit": 2, "sort": sort, "descending": descending}
            response = await orders.http.get(
                "/orders", params={**params, **({"cursor": cursor} if cursor else {})}, headers=me
            )
            page = response.json()
            seen.extend(row["id"] for row in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, sort
    bad = await orders.http.get("/orders", params={"cursor": "nonsense"}, headers=me)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.cursor"


async def test_filters_and_search_find_orders_by_their_visible_text(orders: Orders) -> None:
    me = customer()
    mail, backup, licence = await _place_over_days(
        orders,
        me,
        [
            {"comment": "Mail server for the shop"},
            {"comment": "backups 100%_done"},
            {"plan": "lic-win", "period": 12},
        ],
    )
    active = await orders.active(me)  # main IP 203.0.113.7
    await orders.http.post(f"/orders/{licence['id']}/cancel", json={}, headers=me)

    assert await _ids(orders, me, q="mail SERVER") == [mail["id"]]
    assert await _ids(orders, me, q="203.0.113") == [active["id"]]
    assert await _ids(orders, me, q="lic-win") == [licence["id"]]
    assert await _ids(orders, me, q=backup["id"][:8]) == [backup["id"]]
    assert await _ids(orders, me, q="100%_") == [backup["id"]], "LIKE wildcards are literal"
    assert await _ids(orders, me, q=backup["service_name"].upper()) == [backup["id"]]
    assert await _ids(orders, me, service_name=mail["service_name"][2:6]) == [mail["id"]]
    assert await _ids(orders, me, comment="shop") == [mail["id"]]
    assert await _ids(orders, me, id=licence["id"]) == [licence["id"]]
    assert await _ids(orders, me, status="cancelled") == [licence["id"]]
    assert set(await _ids(orders, me, status=["cancelled", "processed"])) == {
        licence["id"],
        active["id"],
    }
    day = mail["created_at"][:10]
    assert await _ids(orders, me, created_from=day, created_to=day) == [mail["id"]]
    assert len(await _ids(orders, me, created_from=day)) == 4
    row = next(
        r
        for r in (await orders.http.get("/orders", headers=me)).json()["items"]
        if r["id"] == active["id"]
    )
    today = orders.clock.now().date()
    assert row["days_left"] == (date.fromisoformat(row["paid_until"]) - today).days > 0
    assert row["invoice_count"] == 1
    assert row["status_label"] == "processed"


async def test_the_show_menu_is_saved_per_customer(orders: Orders) -> None:
    me, other = customer(), customer()
    assert (await orders.http.get("/me/columns", headers=me)).json() == {"columns": []}
    saved = await orders.http.put(
        "/me/columns", json={"columns": ["comment", "batch_renewal"]}, headers=me
    )
    assert saved.status_code == 200
    assert (await orders.http.get("/orders", headers=me)).json()["columns"] == [
        "comment",
        "batch_renewal",
    ]
    assert (await orders.http.get("/orders", headers=other)).json()["columns"] == []
    await orders.http.put("/me/columns", json={"columns": ["id", "date"]}, headers=me)
    assert (await orders.http.get("/me/columns", headers=me)).json() == {"columns": ["id", "date"]}
    bad = await orders.http.put("/me/columns", json={"columns": ["price"]}, headers=me)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].startswith("body.columns")


async def test_staff_list_every_customer_and_customers_only_their_own(orders: Orders) -> None:
    alice, bob = customer(), customer()
    mine = await orders.place(alice, comment="needle-alpha")
    theirs = await orders.place(bob, comment="needle-alpha")
    assert await _ids(orders, alice, q="needle-alpha") == [mine["id"]]
    assert await _ids(orders, alice, q="needle-alpha", customer=customer_id(bob)) == [mine["id"]]
    assert set(await _ids(orders, STAFF, q="needle-alpha")) == {mine["id"], theirs["id"]}
    assert await _ids(orders, STAFF, q="needle-alpha", customer=customer_id(bob)) == [theirs["id"]]
    rows = (
        await orders.http.get("/orders", params={"customer": customer_id(bob)}, headers=STAFF)
    ).json()["items"]
    assert rows[0]["customer"]["id"] == customer_id(bob)


async def test_a_list_row_shows_what_the_detail_view_shows(orders: Orders) -> None:
    """The rows are written by PostgreSQL, the detail view by pydantic: same values, same
    formats (times with and without microseconds, never-paid and paid orders, a scheduled
    cancellation, text that JSON must escape)."""
    me = customer()
    orders.clock.advance(
        timedelta(seconds=1) - timedelta(microseconds=orders.clock.now().microsecond)
    )
    await orders.place(me, comment='"quoted" \\ back\\slash, tab\t, ünïcödé 🚀')
    orders.clock.advance(timedelta(microseconds=250))
    await orders.place(me)
    orders.clock.advance(timedelta(hours=1, microseconds=500_000))
    active = await orders.active(me)
    cancel = await orders.http.post(
        f"/orders/{active['id']}/cancel", json={"at_period_end": True}, headers=me
    )
    assert cancel.status_code == 200, cancel.text
    orders.clock.advance(timedelta(days=3))

    rows = (await orders.http.get("/orders", headers=me)).json()["items"]
    assert len(rows) == 3
    assert rows[0]["cancellation_scheduled_for"] is not None
    assert rows[0]["days_left"] > 0
    for row in rows:
        detail = await orders.detail(row["id"], me)
        assert row == {field: detail[field] for field in row}
    # Leave no cancellation due for the period-end job of the tests sharing this service.
    revoked = await orders.http.post(f"/orders/{active['id']}/revoke-cancellation", headers=me)
    assert revoked.status_code == 200, revoked.text
