"""Signing in and out. Locally, a page that picks a customer or a staff member and mints their
token with the shared local secret; in production, the identity provider (OpenID Connect),
which is not built yet: the local page is refused there, and sign-in says so."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from services.kit.auth import mint_token
from services.panel.i18n import negotiate
from services.panel.rendering import render
from services.panel.session import Form, User, sign_in, sign_out
from services.panel.settings import PanelSettings

router = APIRouter()


def _settings(request: Request) -> PanelSettings:
    settings: PanelSettings = request.app.state.settings
    return settings


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    settings = _settings(request)
    if not settings.is_local:
        if settings.oidc_metadata_url:
            return render(request, "sign_in_oidc.html")
        return render(request, "sign_in_unavailable.html", status_code=503)
    return render(request, "sign_in.html", people=settings.local_people)


@router.post("/sign-in")
async def sign_in_locally(request: Request, form: Form) -> Response:
    settings = _settings(request)
    if not settings.is_local:
        return render(request, "sign_in_unavailable.html", status_code=403)
    person = next((p for p in settings.local_people if p.sub == form.get("person")), None)
    if person is None:
        return render(
            request, "sign_in.html", status_code=422, people=settings.local_people, unknown=True
        )
    token = mint_token(
        settings.jwt_secret.get_secret_value(),
        sub=person.sub,
        role=person.role,
        name=person.name,
        email=person.email,
        locale=negotiate(request.headers.get("accept-language")),
        ttl=timedelta(seconds=settings.session_max_age_seconds),
        audience=settings.jwt_audience,
    )
    user = User(sub=person.sub, name=person.name, role=person.role, token=token)
    sign_in(request, user)
    return RedirectResponse(user.home, status_code=303)


@router.post("/sign-out")
async def sign_out_now(request: Request, _form: Form) -> Response:
    sign_out(request)
    return RedirectResponse("/sign-in", status_code=303)
