"""No token the API accepts and no value its documents allow gets a server error: tokens with
their optional claims missing, dates at the ends of the calendar (and an offset past them),
numbers beyond what a column holds, cursors that were never given out. What is refused is
refused with a 4xx that names the field or the claim."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest

from services.kit.auth import mint_token
from services.kit.settings import LOCAL_JWT_SECRET
from tests.orders.support import STAFF, Orders, customer, paid

FIRST_DAY, LAST_DAY = "0001-01-01", "9999-12-31"


def token_without(*missing: str, **claims: str) -> dict[str, str]:
    """A valid customer token without the optional claims named (email, name, locale)."""
    sub = f"cust-{uuid.uuid4().hex[:8]}"
    values: dict[str, Any] = {"name": "Ada", "email": f"{sub}@example.com", **claims}
    for claim in missing:
        values[claim] = None
    value = mint_token(LOCAL_JWT_SECRET, sub=sub, role="customer", ttl=timedelta(hours=1), **values)
    if "locale" in missing:  # mint_token always writes one: take it out again
        decoded = jwt.decode(value, options={"verify_signature": False})
        del decoded["locale"]
        value = jwt.encode(decoded, LOCAL_JWT_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {value}"}


@pytest.mark.parametrize(
    ("missing", "claims"),
    [
        ((), {}),
        (("name",), {}),
        (("locale",), {}),
        ((), {"name": ""}),
        ((), {"locale": "en_US"}),
    ],
    ids=["all", "no name", "no locale", "blank name", "locale of another form"],
)
async def test_a_customer_token_without_optional_claims_places_orders(
    orders: Orders, missing: tuple[str, ...], claims: dict[str, str]
) -> None:
    who = token_without(*missing, **claims)
    placed = await orders.http.post(
        "/orders", json={"plan": "vps-s", "period_months": 1}, headers=who
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    nameless = "name" in missing or claims.get("name") == ""
    assert order["customer"]["name"] == (order["customer"]["id"] if nameless else "Ada")
    assert (await orders.http.get("/orders", headers=who)).status_code == 200


@pytest.mark.parametrize("missing", [("email",), ("email", "name", "locale")])
async def test_without_an_email_claim_an_order_is_refused_naming_the_claim(
    orders: Orders, missing: tuple[str, ...]
) -> None:
    who = token_without(*missing)
    placed = await orders.http.post(
        "/orders", json={"plan": "vps-s", "period_months": 1}, headers=who
    )
    assert placed.status_code == 403, placed.text
    problem = placed.json()
    assert problem["type"].endswith(":missing-claim")
    assert "'email' claim" in problem["detail"]
    listed = await orders.http.get("/orders", headers=who)
    assert listed.status_code == 200, "everything else works without it"
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"created_to": LAST_DAY}, True),
        ({"created_from": FIRST_DAY}, True),
        ({"created_from": FIRST_DAY, "created_to": LAST_DAY}, True),
        ({"created_from": LAST_DAY}, False),
        ({"created_to": FIRST_DAY}, False),
        ({"created_from": LAST_DAY, "created_to": FIRST_DAY}, False),
    ],
)
async def test_the_list_filters_to_the_ends_of_the_calendar(
    orders: Orders, params: dict[str, str], found: bool
) -> None:
    me = customer()
    order = await orders.place(me)
    for sort in ("created_at", "paid_until"):
        response = await orders.http.get("/orders", params={**params, "sort": sort}, headers=me)
        assert response.status_code == 200, response.text
        ids = [row["id"] for row in response.json()["items"]]
        assert ids == ([order["id"]] if found else [])


def cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


ORDER_ID = str(uuid.uuid4())


@pytest.mark.parametrize(
    ("sort", "forged"),
    [
        ("created_at", cursor("created_at", True, None, ORDER_ID)),  # never null
        ("created_at", cursor("created_at", True, "0001-01-01T00:00:00+01:00", ORDER_ID)),
        ("created_at", cursor("created_at", True, "9999-12-31T23:59:59-01:00", ORDER_ID)),
        ("created_at", cursor("created_at", True, "2025-01-01T00:00:00", ORDER_ID)),  # no offset
        ("paid_until", cursor("paid_until", True, 20250101, ORDER_ID)),
        ("paid_until", cursor("paid_until", True, "2025-01-01", "not-an-id")),
        ("service_name", cursor("service_name", True, "a", ORDER_ID, "extra")),
        ("status", cursor("status", False, "processed", ORDER_ID)),  # another direction
    ],
)
async def test_cursors_never_given_out_are_refused_naming_the_cursor(
    orders: Orders, sort: str, forged: str
) -> None:
    me = customer()
    response = await orders.http.get("/orders", params={"sort": sort, "cursor": forged}, headers=me)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].endswith("cursor")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/orders", {"limit": 0}),
        ("/orders", {"limit": 201}),
        ("/orders", {"limit": 2**31}),
        ("/orders", {"limit": 2**63}),
        ("/orders", {"limit": -(2**63) - 1}),
    ],
)
async def test_page_sizes_beyond_the_documented_ones_are_refused(
    orders: Orders, path: str, params: dict[str, Any]
) -> None:
    response = await orders.http.get(path, params=params, headers=customer())
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.limit"


@pytest.mark.parametrize("period", [0, 121, 2**31, 2**63, 10**30])
async def test_periods_beyond_the_documented_ones_are_refused(orders: Orders, period: int) -> None:
    placed = await orders.http.post(
        "/orders", json={"plan": "vps-s", "period_months": period}, headers=customer()
    )
    assert placed.status_code == 422, placed.text
    assert placed.json()["errors"][0]["field"] == "body.period_months"


async def test_a_service_start_at_the_calendar_s_ends_is_refused_naming_it(
    orders: Orders,
) -> None:
    order = await orders.place(customer())
    await orders.publish(paid([order["id"]]))
    await orders.wait_status(order["id"], "in_progress")
    body = {"contract": "C-1", "main_ip": "203.0.113.7"}
    for day in (FIRST_DAY, LAST_DAY, "9999-01-01", "1969-12-31", "3000-01-01"):
        refused = await orders.staff(order["id"], "complete", **body, starts_on=day)
        assert refused.status_code == 422, (day, refused.text)
        assert refused.json()["errors"][0]["field"] == "body.starts_on"
    done = await orders.staff(order["id"], "complete", **body, starts_on="2999-12-31")
    assert done.status_code == 200, done.text
    assert done.json()["paid_until"] == "3000-01-30"


@pytest.mark.parametrize(
    ("remind_at", "status"),
    [
        ("0001-01-01T00:00:00+01:00", 422),  # before the first UTC time
        ("9999-12-31T23:59:59-01:00", 422),  # after the last
        ("0001-01-01T00:00:00Z", 200),
        ("9999-12-31T23:59:59Z", 200),
    ],
)
async def test_hold_reminders_at_the_calendar_s_ends(
    orders: Orders, remind_at: str, status: int
) -> None:
    order = await orders.place(customer())
    held = await orders.staff(order["id"], "hold", reason="checking", remind_at=remind_at)
    assert held.status_code == status, held.text
    if status == 422:
        assert held.json()["errors"][0]["field"] == "body.remind_at"
    else:
        assert held.json()["hold"]["remind_at"].startswith(remind_at[:19])
        detail = await orders.detail(order["id"], STAFF)
        assert detail["hold"]["remind_at"] == held.json()["hold"]["remind_at"]
        # Released, so its year-1 reminder is not due in another test of this service.
        released = await orders.staff(order["id"], "release")
        assert released.status_code == 200, released.text
