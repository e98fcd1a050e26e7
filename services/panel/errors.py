"""What a person sees when something fails: a page in their language that says what happened
and what to do, never a stack trace."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from services.kit.logs import get_logger
from services.panel.gateway import ServiceDown, ServiceProblem
from services.panel.rendering import render
from services.panel.session import CsrfRefused, NotForYou, SignInRequired, sign_out

_log = get_logger(__name__)


async def _sign_in_first(request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/sign-in", status_code=303)


async def _not_for_you(request: Request, _exc: Exception) -> Response:
    home = "/staff" if request.session.get("role") == "staff" else "/"
    return RedirectResponse(home, status_code=303)


async def _csrf(request: Request, _exc: Exception) -> Response:
    return render(request, "error.html", status_code=403, reason="csrf")


async def _down(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceDown)
    return render(request, "service_down.html", status_code=503, service=exc.service)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceProblem)
    if exc.status == 401:
        sign_out(request)
        return RedirectResponse("/sign-in", status_code=303)
    if exc.status == 404:
        return render(request, "not_found.html", status_code=404)
    return render(request, "error.html", status_code=exc.status, problem=exc)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return render(request, "not_found.html", status_code=404)
    return render(request, "error.html", status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    reference = uuid.uuid4().hex[:12]
    _log.exception("panel.unexpected_error", reference=reference, path=request.url.path)
    return render(request, "error.html", status_code=500, reference=reference)


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(NotForYou, _not_for_you)
    app.add_exception_handler(CsrfRefused, _csrf)
    app.add_exception_handler(ServiceDown, _down)
    app.add_exception_handler(ServiceProblem, _refused)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
