"""RFC 9457 problem details: the one error format of every service's HTTP API.

A service raises named facts (its domain errors, or a ``ProblemError``); the handlers installed
by ``install_problem_handlers`` turn each into ``application/problem+json`` once, here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from services.kit.faults import UNAVAILABLE_TYPES, is_unavailable, is_unstorable_value
from services.kit.logs import bind_correlation, get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Seconds a client is told to wait when a dependency (database, Kafka) is unreachable.
DEFAULT_RETRY_AFTER = 5

_log = get_logger(__name__)


class FieldError(BaseModel):
    """One failing input field of a request."""

    field: str = Field(description="Where the value was, e.g. `body.price.amount`.")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`).

    Extension members beyond the standard ones may appear (e.g. `checks` on `/readyz`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:order-platform:problem:transition-not-allowed",
                    "title": "Transition not allowed",
                    "status": 409,
                    "detail": "An order in status 'cancelled' cannot be held",
                    "instance": "/orders/3f8e.../hold",
                }
            ]
        },
    )

    type: str = Field(default="about:blank", description="URI naming the kind of problem.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong this time.")
    instance: str | None = Field(default=None, description="The path of the failed request.")
    errors: list[FieldError] | None = Field(
        default=None, description="The failing fields, on a validation problem."
    )


class ProblemError(Exception):
    """Base of errors that carry their own HTTP status; raise one of its subclasses."""

    status: int = 500
    title: str = "Internal Server Error"
    type: str = "about:blank"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.status = status or type(self).status
        self.title = title or type(self).title
        self.headers = dict(headers or {})


class Unauthenticated(ProblemError):
    """No valid bearer token came with the request."""

    status = 401
    title = "Not authenticated"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ProblemError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class ServiceUnavailable(ProblemError):
    """A dependency (database, Kafka) cannot be reached; the client should retry later."""

    status = 503
    title = "Service unavailable"

    def __init__(
        self, detail: str | None = None, *, retry_after: int = DEFAULT_RETRY_AFTER
    ) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type: str = "about:blank",
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A ``application/problem+json`` response with the given members."""
    problem = Problem(
        type=type,
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
        **extensions,
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def problem_type(name: str) -> str:
    """The ``type`` URI of a named problem: ``OrderNotFound`` -> ``urn:...:order-not-found``."""
    return "urn:order-platform:problem:" + "-".join(w.lower() for w in _words(name))


def title_from_class(cls: type[BaseException]) -> str:
    """A class name in words: ``TransitionNotAllowed`` -> ``Transition not allowed``."""
    words = _words(cls.__name__.removesuffix("Error"))
    tail = [w if w.isupper() and len(w) > 1 else w.lower() for w in words[1:]]
    return " ".join([words[0], *tail]) if words else cls.__name__


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|\d+", name)


# --- handlers ---------------------------------------------------------------------------------

Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_problem_handlers(
    app: FastAPI,
    domain_errors: Mapping[type[Exception], int] | None = None,
    *,
    retry_after: int = DEFAULT_RETRY_AFTER,
) -> None:
    """Answer every error of ``app`` with problem+json.

    ``domain_errors`` maps a service's named errors to their status, e.g.
    ``{OrderNotFound: 404, TransitionNotAllowed: 409}``; subclasses inherit the mapping. The
    title is the class name in words and the detail ``str(exc)``, so the message a domain error
    is raised with is what the client reads. Also documents problem responses in OpenAPI as
    ``application/problem+json``.
    """
    for error_class, status in (domain_errors or {}).items():
        app.add_exception_handler(error_class, _domain_handler(error_class, status))
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    unavailable = _unavailable_handler(retry_after)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _unstorable_value_or(unavailable))
    for error_class in (*UNAVAILABLE_TYPES, OSError):
        app.add_exception_handler(error_class, unavailable)
    # Starlette runs the Exception handler outside all middleware, then re-raises to the server.
    app.add_exception_handler(Exception, unavailable)
    _serve_problems_in_openapi(app)


def _domain_handler(error_class: type[Exception], status: int) -> Handler:
    title = title_from_class(error_class)
    kind = problem_type(error_class.__name__)

    async def handle(request: Request, exc: Exception) -> Response:
        return problem_response(status, title, str(exc), type=kind, instance=request.url.path)

    return handle


async def _problem_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        type=exc.type,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(field=".".join(str(part) for part in error["loc"]), message=error["msg"])
        for error in exc.errors()
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return problem_response(
        422,
        "Request validation failed",
        detail,
        type=problem_type("ValidationFailed"),
        instance=request.url.path,
        errors=errors,
    )


def _unstorable_value_or(otherwise: Handler) -> Handler:
    """A value the request carried passed validation but cannot be stored as given: the
    client's input is wrong, so 422, not a server error. Every other database error goes to
    ``otherwise``."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not is_unstorable_value(exc):
            return await otherwise(request, exc)
        _log.info(
            "unstorable_value",
            path=request.url.path,
            error=type(getattr(exc, "orig", exc)).__name__,
        )
        return problem_response(
            422,
            "Request validation failed",
            "A value of the request cannot be stored (e.g. a NUL character in a text).",
            type=problem_type("ValidationFailed"),
            instance=request.url.path,
        )

    return handle


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = None if exc.detail == title else str(exc.detail)
    return problem_response(
        exc.status_code, title, detail, instance=request.url.path, headers=exc.headers
    )


def _unavailable_handler(retry_after: int) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        correlation_id = getattr(request.state, "correlation_id", None)
        with bind_correlation(correlation_id):
            problem: ProblemError
            if is_unavailable(exc):
                _log.warning("dependency_unavailable", error=repr(exc))
                problem = ServiceUnavailable(_UNAVAILABLE_DETAIL, retry_after=retry_after)
            else:
                _log.error("unhandled_exception", path=request.url.path, exc_info=exc)
                problem = ProblemError(_UNHANDLED_DETAIL)
        if correlation_id:  # outside the middleware when Starlette's server-error handler runs
            problem.headers["X-Correlation-ID"] = correlation_id
        return await _problem_error(request, problem)

    return handle


_UNAVAILABLE_DETAIL = "A service this one depends on cannot be reached; try again shortly."
_UNHANDLED_DETAIL = "The server failed to handle the request; it has been logged."


def _serve_problems_in_openapi(app: FastAPI) -> None:
    # FastAPI files every response model under the route's media type (application/json);
    # problem responses are served as application/problem+json, so document them as that.
    build = app.openapi

    def openapi() -> dict[str, Any]:
        first_build = app.openapi_schema is None
        schema = build()
        if first_build:
            for response in _responses(schema):
                content = response.get("content", {})
                ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                if ref.endswith("/Problem"):
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _responses(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                yield from operation.get("responses", {}).values()


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Route ``responses=`` entries documenting the given problem statuses."""
    return {
        status: {"model": Problem, "description": _RESPONSE_DESCRIPTIONS[status]}
        for status in statuses
    }


_RESPONSE_DESCRIPTIONS = {
    400: "The request is malformed.",
    401: "No valid bearer token.",
    403: "The caller may not do this.",
    404: "No such resource, or not the caller's.",
    409: "The resource's state does not allow this.",
    422: "A field of the request is invalid; `errors` names each.",
    503: "A dependency is unreachable; retry after `Retry-After` seconds.",
}

#: Every problem status a route of ours can answer with, for ``responses=``.
PROBLEM_RESPONSES = problem_responses(400, 401, 403, 404, 409, 422, 503)
