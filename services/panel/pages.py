"""What every page route uses: the services as the signed-in user, and the answer to a form."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse

from services.panel.gateway import Gateway, UserGateway
from services.panel.session import User


def services(request: Request, user: User) -> UserGateway:
    """The four services, called with ``user``'s token."""
    gateway: Gateway = request.app.state.gateway
    return gateway.as_user(user.token)


def back(path: str) -> RedirectResponse:
    """After a form: the page to show next (303, so a reload does not post again)."""
    return RedirectResponse(path, status_code=303)


def form_int(value: object, default: int = 0) -> int:
    """A number from a form field; a bad one becomes ``default`` for the service to refuse."""
    try:
        return int(str(value))
    except ValueError:
        return default
