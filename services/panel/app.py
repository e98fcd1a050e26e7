"""``create_app(settings)``: the panel's one assembly point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.panel import auth_pages, customer_actions, customer_pages, oidc, staff_pages
from services.panel.errors import install_error_pages
from services.panel.gateway import Gateway
from services.panel.session import TokenVault
from services.panel.settings import PanelSettings


def create_app(settings: PanelSettings) -> FastAPI:
    gateway = Gateway(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await gateway.close()

    app = FastAPI(title="Panel", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.gateway = gateway
    app.state.identity_provider = oidc.identity_provider(settings)
    app.state.token_vault = TokenVault(settings.session_secret.get_secret_value())
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie="panel_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (auth_pages, oidc, customer_pages, customer_actions, staff_pages):
        app.include_router(module.router)
    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    install_error_pages(app)
    return app


async def _healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})
