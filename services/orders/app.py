"""The orders service: the order lifecycle, the order list and the actions on an order."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from contracts import ORDERS
from services.kit import parking
from services.kit.problems import FieldError, problem_response, problem_type
from services.kit.runtime import Runtime
from services.kit.service import ServiceShape
from services.orders import api, api_catalogue, jobs, reactions
from services.orders.errors import InvalidField, NotAllowedForRole, OrderConflict, OrderNotFound
from services.orders.settings import OrdersSettings

TITLE = "Orders"
DESCRIPTION = "The order lifecycle, the customer's order list and the actions on an order."

#: Named errors of the domain and their HTTP status (problem+json; the detail is the message).
DOMAIN_ERRORS: dict[type[Exception], int] = {
    OrderNotFound: 404,
    OrderConflict: 409,  # TransitionNotAllowed names the status and the action
    NotAllowedForRole: 403,
}


def wire(settings: OrdersSettings, runtime: Runtime, app: FastAPI) -> None:
    """Consumers, jobs and the parked events' expiry of the orders service."""
    reactions.subscribe(runtime)
    jobs.register(runtime)
    parking.schedule_expiry(runtime, runtime.registry)
    app.add_exception_handler(InvalidField, _invalid_field)


SERVICE = ServiceShape(
    title=TITLE,
    description=DESCRIPTION,
    publishes_on=ORDERS,
    routers=[api.router, api_catalogue.router],
    domain_errors=DOMAIN_ERRORS,
    wire=wire,
)
create_app = SERVICE.create_app


async def _invalid_field(request: Request, exc: Exception) -> Response:
    """A field the rules refuse (unknown plan, period the plan does not allow): 422 naming it,
    in the same shape as a request validation failure."""
    assert isinstance(exc, InvalidField)
    return problem_response(
        422,
        "Request validation failed",
        str(exc),
        type=problem_type("ValidationFailed"),
        instance=request.url.path,
        errors=[FieldError(field=f"body.{exc.field}", message=exc.message)],
    )
