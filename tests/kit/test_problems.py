"""Every error of an app answered as RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg.exceptions
import httpx
import pytest
import sqlalchemy
import sqlalchemy.exc
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import create_async_engine

from services.kit.problems import (
    PROBLEM_RESPONSES,
    ProblemError,
    install_problem_handlers,
    is_unavailable,
    title_from_class,
)

#: Nothing listens on port 1 of the loopback: a connection there is refused at once.
REFUSED_DATABASE = "postgresql+asyncpg://app:app@127.0.0.1:1/app"
REFUSED_KAFKA = "127.0.0.1:1"


class OrderNotFound(Exception):
    pass


class TransitionNotAllowed(Exception):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"An order in status '{status}' cannot be {action}")


class HoldNotAllowed(TransitionNotAllowed):
    pass


class Money(BaseModel):
    amount: Decimal
    currency: str


class PlaceOrder(BaseModel):
    product: str
    price: Money


class Teapot(ProblemError):
    status = 418
    title = "Short and stout"
    type = "urn:order-platform:problem:teapot"


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app, {OrderNotFound: 404, TransitionNotAllowed: 409})

    @app.get("/orders/{order_id}", responses=PROBLEM_RESPONSES)
    async def get_order(order_id: str) -> dict[str, str]:
        raise OrderNotFound(f"No order {order_id}")

    @app.post("/orders/{order_id}/hold", responses=PROBLEM_RESPONSES)
    async def hold(order_id: str) -> None:
        raise HoldNotAllowed("cancelled", "held")

    @app.post("/orders", responses=PROBLEM_RESPONSES)
    async def place(command: PlaceOrder) -> PlaceOrder:
        return command

    @app.get("/database")
    async def database() -> None:
        engine = create_async_engine(REFUSED_DATABASE)
        try:
            async with engine.connect() as connection:
                await connection.execute(sqlalchemy.text("SELECT 1"))
        finally:
            await engine.dispose()

    @app.get("/kafka")
    async def kafka() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=REFUSED_KAFKA)
        try:
            await producer.start()
        finally:
            await producer.stop()

    @app.get("/teapot")
    async def teapot() -> None:
        raise Teapot("I am one", headers={"X-Kettle": "yes"})

    @app.get("/starlette")
    async def starlette_error() -> None:
        raise HTTPException(status_code=429, detail="Slow down", headers={"Retry-After": "9"})

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # The server, not the app, re-raises unhandled errors; the client should see the response.
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    return body


async def test_a_domain_error_keeps_its_message_under_its_mapped_status(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/orders/o-1/hold")

    assert assert_problem(response, 409) == {
        "type": "urn:order-platform:problem:transition-not-allowed",
        "title": "Transition not allowed",
        "status": 409,
        "detail": "An order in status 'cancelled' cannot be held",
        "instance": "/orders/o-1/hold",
    }


async def test_a_not_found_error_is_a_404(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/orders/o-2"), 404)

    assert body["title"] == "Order not found"
    assert body["detail"] == "No order o-2"


async def test_a_validation_problem_names_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={"price": {"amount": "ten", "currency": "EUR"}})

    body = assert_problem(response, 422)
    assert body["title"] == "Request validation failed"
    fields = {error["field"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"body.product", "body.price.amount"}
    assert "body.price.amount" in str(body["detail"])
    assert "body.product: Field required" in str(body["detail"])


async def test_an_unreachable_database_is_a_503_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/database")

    assert_problem(response, 503)
    assert response.headers["retry-after"] == "5"


async def test_an_unreachable_kafka_is_a_503_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/kafka")

    assert_problem(response, 503)
    assert response.headers["retry-after"] == "5"


async def test_a_problem_error_carries_its_own_status_type_and_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/teapot")

    body = assert_problem(response, 418)
    assert body["type"] == "urn:order-platform:problem:teapot"
    assert body["title"] == "Short and stout"
    assert body["detail"] == "I am one"
    assert response.headers["x-kettle"] == "yes"


async def test_http_exceptions_and_unknown_routes_are_problems(
    client: httpx.AsyncClient,
) -> None:
    limited = await client.get("/starlette")
    body = assert_problem(limited, 429)
    assert body["title"] == "Too Many Requests"
    assert body["detail"] == "Slow down"
    assert limited.headers["retry-after"] == "9"

    assert assert_problem(await client.get("/nowhere"), 404)["title"] == "Not Found"
    assert assert_problem(await client.delete("/orders"), 405)["title"] == "Method Not Allowed"


async def test_an_unhandled_error_is_a_generic_500(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/bug"), 500)

    assert "secret internals" not in str(body)


def test_openapi_documents_problems_as_problem_json() -> None:
    schema = make_app().openapi()

    responses = schema["paths"]["/orders"]["post"]["responses"]
    for status in ("401", "403", "404", "409", "422", "503"):
        content = responses[status]["content"]
        assert content == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "application/json" in responses["200"]["content"]


@pytest.mark.parametrize(
    ("cls", "title"),
    [(OrderNotFound, "Order not found"), (TransitionNotAllowed, "Transition not allowed")],
)
def test_titles_are_class_names_in_words(cls: type[Exception], title: str) -> None:
    assert title_from_class(cls) == title


def test_acronyms_and_error_suffixes_read_naturally() -> None:
    class HTTPGatewayError(Exception):
        pass

    assert title_from_class(HTTPGatewayError) == "HTTP gateway"


def test_unavailability_is_found_behind_a_wrapping_error() -> None:
    wrapped = RuntimeError("could not load the order")
    wrapped.__cause__ = ConnectionRefusedError(111, "Connect call failed")

    assert is_unavailable(wrapped)
    lost = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
    assert is_unavailable(sqlalchemy.exc.OperationalError("SELECT 1", {}, lost))
    assert is_unavailable(sqlalchemy.exc.InterfaceError("SELECT 1", {}, lost))
    assert is_unavailable(ExceptionGroup("tasks", [ValueError(), ConnectionResetError()]))
    assert not is_unavailable(RuntimeError("a bug"))
    assert not is_unavailable(FileNotFoundError(2, "No such file"))
