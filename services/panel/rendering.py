"""Pages from Jinja2 templates, with the reader's language, the signed-in user and the CSRF
token at hand in every template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from services.panel.i18n import Translator, negotiate
from services.panel.session import csrf_token

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

#: The colour and icon of each order status (the row's style in the list).
STATUS_STYLES = {
    "not_processed": ("grey", "○"),
    "in_progress": ("blue", "◔"),
    "processed": ("green", "●"),
    "on_hold": ("amber", "‖"),
    "cancelled": ("dark", "✕"),
    "suspended_violation": ("red", "⊘"),
    "suspended_non_payment": ("red", "⚠"),
}


def translator(request: Request) -> Translator:
    return Translator(negotiate(request.headers.get("accept-language")))


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """The page ``template`` in the reader's language."""
    _ = translator(request)
    session = request.session
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "_": _,
            "language": _.language,
            "user_name": session.get("name"),
            "user_role": session.get("role"),
            "csrf": csrf_token(request),
            "status_styles": STATUS_STYLES,
            "flash": session.pop("flash", None),
            **context,
        },
        status_code=status_code,
    )
