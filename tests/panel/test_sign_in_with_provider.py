"""Production sign-in through the identity provider (authorization code with PKCE): the
panel built for production, in process, against a provider running as a real HTTP server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr

from services.panel.app import create_app
from services.panel.settings import PanelSettings
from tests.e2e.system import free_port
from tests.panel.identity_provider import CLIENT_ID, running_provider

GRACE = {"sub": "s-grace", "name": "Grace", "role": "staff", "email": "grace@example.com"}


async def test_staff_sign_in_through_the_identity_provider() -> None:
    async with running_provider(free_port(), GRACE) as provider:
        settings = PanelSettings(
            environment="production",
            session_secret=SecretStr("s" * 40),
            jwt_secret=SecretStr("j" * 40),
            oidc_metadata_url=f"{provider.url}/.well-known/openid-configuration",
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=SecretStr("client-secret"),
        )
        panel = httpx.ASGITransport(app=create_app(settings))
        async with (
            httpx.AsyncClient(transport=panel, base_url="https://panel.example") as browser,
            httpx.AsyncClient() as outside,
        ):
            page = await browser.get("/sign-in")
            assert "Sign in with your company account" in page.text
            assert 'name="person"' not in page.text

            to_provider = await browser.get("/sign-in/provider")
            assert to_provider.status_code == 302
            asked = parse_qs(urlsplit(to_provider.headers["location"]).query)
            assert asked["code_challenge_method"] == ["S256"]
            assert asked["client_id"] == [CLIENT_ID]

            from_provider = await outside.get(to_provider.headers["location"])
            assert from_provider.status_code == 302
            callback = urlsplit(from_provider.headers["location"])
            assert callback.path == "/sign-in/callback"

            signed_in = await browser.get(f"/sign-in/callback?{callback.query}")
            assert signed_in.status_code == 303
            assert signed_in.headers["location"] == "/staff"
            cookie = signed_in.headers["set-cookie"].lower()
            assert "secure" in cookie
            assert "httponly" in cookie
            staff_page = await browser.get("/staff")
            assert "Grace (staff)" in staff_page.text
            assert "Find an order" in staff_page.text

            replayed = await browser.get(f"/sign-in/callback?{callback.query}")
            assert replayed.status_code == 401
            assert "did not confirm who you are" in replayed.text
    assert provider.exchanges[0]["code_verifier"]
