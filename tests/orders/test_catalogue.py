"""The catalogue: seeded plans, staff edits with money and currency checked, customers read."""

from __future__ import annotations

from tests.orders.support import STAFF, Orders, customer


async def test_seeded_catalogue_is_readable(orders: Orders) -> None:
    response = await orders.http.get("/catalogue", headers=customer())
    products = {p["id"]: p for p in response.json()["products"]}
    plans = {plan["id"]: plan for plan in products["vps"]["plans"]}
    assert plans["vps-s"]["monthly_price"] == {"amount": "4.00", "currency": "EUR"}
    assert plans["vps-s"]["periods"] == [1, 3, 6, 12]


async def test_staff_edit_a_plan_and_new_orders_use_it(orders: Orders) -> None:
    product = await orders.http.put(
        "/catalogue/products/gpu", json={"name": "GPU server"}, headers=STAFF
    )
    assert product.status_code == 204
    body = {
        "product": "gpu",
        "name": "GPU A",
        "monthly_price": "99.90",
        "currency": "CHF",
        "periods": [1, 6],
    }
    plan = await orders.http.put("/catalogue/plans/gpu-a", json=body, headers=STAFF)
    assert plan.status_code == 200, plan.text
    order = await orders.place(customer(), plan="gpu-a", period=6)
    assert order["price"] == {"amount": "599.40", "currency": "CHF"}
    assert order["product"] == "gpu"


async def test_bad_money_currency_or_product_is_a_422_naming_the_field(orders: Orders) -> None:
    good = {
        "product": "vps",
        "name": "X",
        "monthly_price": "1.00",
        "currency": "EUR",
        "periods": [1],
    }
    cases = {
        "monthly_price": [
            {"monthly_price": "-1.00"},
            {"monthly_price": "abc"},
            {"monthly_price": 1.5},
            {"monthly_price": "1.001"},
        ],
        "currency": [{"currency": "XYZ"}, {"currency": "eur"}],
        "product": [{"product": "no-such"}],
    }
    for field, variants in cases.items():
        for variant in variants:
            response = await orders.http.put(
                "/catalogue/plans/x-1", json={**good, **variant}, headers=STAFF
            )
            assert response.status_code == 422, (variant, response.text)
            assert [e["field"] for e in response.json()["errors"]] == [f"body.{field}"], variant


async def test_customers_may_not_edit_the_catalogue(orders: Orders) -> None:
    response = await orders.http.put(
        "/catalogue/products/vps", json={"name": "Mine"}, headers=customer()
    )
    assert response.status_code == 403
