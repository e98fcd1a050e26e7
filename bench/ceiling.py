"""The ceilings of the HTTP benchmarks, served by uvicorn like the services: the least a
service could do for each request on this stack. Bare Starlette routes on an asyncpg pool
(``CEILING_DSN``, the orders database), rows serialised with orjson; no authentication, no
validation, no models.

- ``GET /orders?customer=&cursor=``: the orders list's keyset page (the same query);
- ``POST /orders``: an order row and an outbox row, in one transaction;
- ``POST /orders/{id}/cancel``: the order's row updated and an outbox row, in one transaction.

``hello`` is FastAPI's hello world, the framework's own ceiling. ``framework`` is the stack's
floor: the same statements on the same pool, but declared as the orders service declares its
routes (FastAPI, the list's query parameters, a bearer header, a pydantic body, the connection
and its transaction as a dependency); what the framework costs before any of our code runs."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import Depends, FastAPI, Header, Query
from fastapi import Request as FastAPIRequest
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COLUMNS = (
    "id, created_at, service_name, product, plan, main_ip, paid_until, status, price, currency,"
    " period_months, comment, campaign, invoice_count, scheduled_cancellation, customer_id,"
    " customer_name"
)
FIRST = (
    f"SELECT {COLUMNS} FROM orders WHERE customer_id = $1 "
    "ORDER BY created_at DESC, id DESC LIMIT $2"
)
AFTER = (
    f"SELECT {COLUMNS} FROM orders WHERE customer_id = $1 AND (created_at, id) < ($3, $4) "
    "ORDER BY created_at DESC, id DESC LIMIT $2"
)
PLACE = """
INSERT INTO orders (id, created_at, service_name, product, plan, price, currency, period_months,
    customer_id, customer_name, customer_email, customer_locale, comment, status)
VALUES ($1, $2, $3, 'vps', $4, 4.00, 'EUR', $5, $6, 'Name', 'x@example.com', 'en', $7,
    'not_processed')
"""
CANCEL = """
UPDATE orders SET scheduled_cancellation = $2::jsonb, cancel_at = paid_until
WHERE id = $1 AND scheduled_cancellation IS NULL RETURNING status
"""
#: The ceiling's outbox rows go to a table of the outbox's shape but its own (created by
#: ``orders_http.fill``): in the service's ``outbox`` the running service's relay would
#: publish them, on the ceiling's time.
OUTBOX_TABLE = """
CREATE TABLE ceiling_outbox (LIKE outbox INCLUDING ALL);
GRANT SELECT, INSERT ON ceiling_outbox TO PUBLIC
"""
OUTBOX = """
INSERT INTO ceiling_outbox (event_id, topic, key, event_type, payload)
VALUES ($1, $2, $3, $4, $5)
"""


def _json(value: Any) -> Any:
    return str(value)  # Decimal, and anything else orjson leaves to us


@asynccontextmanager
async def _pool(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["CEILING_DSN"], min_size=5, max_size=10)
    yield
    await app.state.pool.close()


async def healthz(request: Request) -> Response:
    return Response(b"{}", media_type="application/json")


async def list_orders(request: Request) -> Response:
    customer, cursor = request.query_params["customer"], request.query_params.get("cursor")
    async with request.app.state.pool.acquire() as connection:
        return await _page(connection, customer, cursor)


async def _page(connection: asyncpg.Connection, customer: str, cursor: str | None) -> Response:
    if cursor:
        created, order_id = orjson.loads(base64.urlsafe_b64decode(cursor))
        rows = await connection.fetch(
            AFTER, customer, 51, datetime.fromisoformat(created), uuid.UUID(order_id)
        )
    else:
        rows = await connection.fetch(FIRST, customer, 51)
    items = [dict(row) for row in rows[:50]]
    last = items[-1]
    next_cursor = base64.urlsafe_b64encode(
        orjson.dumps([last["created_at"].isoformat(), str(last["id"])])
    ).decode()
    body = {"items": items, "next_cursor": next_cursor if len(rows) > 50 else None}
    return Response(orjson.dumps(body, default=_json), media_type="application/json")


async def place_order(request: Request) -> Response:
    body = orjson.loads(await request.body())
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        return await _place(connection, body)


async def _place(connection: asyncpg.Connection, body: dict[str, Any]) -> Response:
    order_id, now = uuid.uuid4(), datetime.now(UTC)
    row = {"id": str(order_id), "created_at": now.isoformat(), "status": "not_processed", **body}
    await connection.execute(
        PLACE, order_id, now, body["plan"], body["plan"], body["period_months"], "bench",
        body.get("comment"),
    )  # fmt: skip
    await connection.execute(
        OUTBOX, uuid.uuid4(), "orders.events", str(order_id), "order.placed", orjson.dumps(row)
    )
    return Response(orjson.dumps(row), status_code=201, media_type="application/json")


async def cancel(request: Request) -> Response:
    order_id = uuid.UUID(request.path_params["order_id"])
    body = await request.body()
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        status = await connection.fetchval(CANCEL, order_id, body.decode())
        if status is None:
            return Response(b'{"status": 409}', status_code=409)
        await connection.execute(
            OUTBOX, uuid.uuid4(), "orders.events", str(order_id), "order.cancellation_scheduled",
            orjson.dumps({"order_id": str(order_id), "status": status}),
        )  # fmt: skip
    return Response(orjson.dumps({"id": str(order_id), "status": status}))


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/orders", list_orders),
        Route("/orders", place_order, methods=["POST"]),
        Route("/orders/{order_id}/cancel", cancel, methods=["POST"]),
    ],
    lifespan=_pool,
)

hello = FastAPI()


@hello.get("/healthz")
async def hello_world() -> dict[str, str]:
    return {"hello": "world"}


framework = FastAPI(lifespan=_pool)


async def _bearer(authorization: Annotated[str | None, Header()] = None) -> str | None:
    return authorization


async def _reading(request: FastAPIRequest) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.pool.acquire() as connection:
        yield connection


async def _writing(request: FastAPIRequest) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        yield connection


@framework.get("/healthz")
async def framework_health() -> Response:
    return Response(b"{}", media_type="application/json")


@framework.get("/orders")
async def framework_list(
    _who: Annotated[str | None, Depends(_bearer)],
    connection: Annotated[asyncpg.Connection, Depends(_reading)],
    customer: str,
    service_name: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    created_from: date | None = None,
    created_to: date | None = None,
    comment: str | None = None,
    id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: str = "created_at",
    descending: bool = True,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Response:
    return await _page(connection, customer, cursor)


class _PlaceOrder(BaseModel):
    plan: str = Field(min_length=1, max_length=64)
    period_months: int = Field(ge=1, le=36)
    campaign: str | None = None
    comment: str | None = Field(default=None, max_length=500)


@framework.post("/orders", status_code=201)
async def framework_place(
    body: _PlaceOrder,
    _who: Annotated[str | None, Depends(_bearer)],
    connection: Annotated[asyncpg.Connection, Depends(_writing)],
) -> Response:
    return await _place(connection, body.model_dump())
