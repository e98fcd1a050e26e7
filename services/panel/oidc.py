"""Sign-in through the identity provider (OpenID Connect, authorization code with PKCE), for
production. The provider's access token is what the panel sends to the services, which check
it against the provider's keys (``JWT_JWKS_URL``); the ID token says who signed in."""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from starlette.responses import Response

from services.panel.pages import back
from services.panel.rendering import render
from services.panel.session import User, sign_in
from services.panel.settings import PanelSettings

router = APIRouter()

PROVIDER = "provider"


def identity_provider(settings: PanelSettings) -> OAuth | None:
    """The registered provider, or ``None`` when ``PANEL_OIDC_METADATA_URL`` is not set."""
    if not settings.oidc_metadata_url:
        return None
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        server_metadata_url=settings.oidc_metadata_url,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )
    return oauth


def _provider(request: Request) -> Any:
    oauth: OAuth | None = request.app.state.identity_provider
    return oauth.create_client(PROVIDER) if oauth else None


@router.get("/sign-in/provider")
async def go_to_provider(request: Request) -> Response:
    client = _provider(request)
    if client is None:
        return render(request, "sign_in_unavailable.html", status_code=503)
    redirect: Response = await client.authorize_redirect(
        request, request.url_for("back_from_provider")
    )
    return redirect


@router.get("/sign-in/callback", name="back_from_provider")
async def back_from_provider(request: Request) -> Response:
    client = _provider(request)
    if client is None:
        return render(request, "sign_in_unavailable.html", status_code=503)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError:
        return render(request, "sign_in_oidc.html", status_code=401, failed=True)
    settings: PanelSettings = request.app.state.settings
    claims = token["userinfo"]
    user = User(
        sub=str(claims["sub"]),
        name=str(claims.get("name") or claims["sub"]),
        role="staff" if claims.get(settings.oidc_role_claim) == "staff" else "customer",
        token=str(token["access_token"]),
    )
    sign_in(request, user)
    return back(user.home)
