"""The panel in the reader's language, and its sign-in rules: what a browser gets over HTTP
from the running panel, and from the panel built for production."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest
from pydantic import SecretStr

from services.panel.app import create_app
from services.panel.settings import PanelSettings
from tests.e2e.story import BOB, place
from tests.e2e.system import System
from tests.panel.conftest import Panel


async def signed_in(http: httpx.AsyncClient, person: str) -> None:
    page = await http.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = await http.post("/sign-in", data={"csrf": csrf.group(1), "person": person})
    assert answer.status_code == 303


async def test_pages_speak_the_readers_language(system: System, panel: Panel) -> None:
    async with httpx.AsyncClient(timeout=10) as services:
        order = await place(services, system, "vps-s", who=BOB)
    async with httpx.AsyncClient(base_url=panel.url, timeout=10) as http:
        await signed_in(http, "c-bob")
        german = await http.get("/orders", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
        polish = await http.get("/orders", headers={"Accept-Language": "pl"})
        english = await http.get("/orders", headers={"Accept-Language": "fr, en;q=0.1"})
    assert '<html lang="de">' in german.text
    assert "Aufträge" in german.text
    assert "Nicht bearbeitet" in german.text
    assert "4,00\xa0€" in german.text
    assert '<html lang="pl">' in polish.text
    assert "Zamówienia" in polish.text
    assert "Nieprzetworzone" in polish.text
    assert "4,00\xa0€" in polish.text
    assert "Not processed" in english.text
    assert "€4.00" in english.text
    assert order["service_name"] in english.text


async def test_forms_without_the_sessions_csrf_token_are_refused(panel: Panel) -> None:
    async with httpx.AsyncClient(base_url=panel.url, timeout=10) as http:
        await signed_in(http, "c-bob")
        forged = await http.post("/orders/columns", data={"column": "id"})
    assert forged.status_code == 403
    assert "This form has expired" in forged.text


def production() -> PanelSettings:
    return PanelSettings(
        environment="production",
        session_secret=SecretStr("s" * 40),
        jwt_secret=SecretStr("j" * 40),
    )


async def test_production_refuses_the_local_sign_in_and_sends_secure_cookies() -> None:
    app = create_app(production())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://panel.example") as http:
        page = await http.get("/sign-in")
        attempt = await http.post("/sign-in", data={"person": "s-grace"})
        home = await http.get("/")
    assert page.status_code == 503
    assert "local sign-in is refused in production" in page.text
    assert 'name="person"' not in page.text
    assert "; secure" in page.headers["set-cookie"].lower()
    assert "httponly" in page.headers["set-cookie"].lower()
    assert attempt.status_code == 403
    assert home.status_code == 303
    assert home.headers["location"] == "/sign-in"


def test_production_settings_refuse_local_secrets() -> None:
    with pytest.raises(ValueError, match="PANEL_SESSION_SECRET"):
        PanelSettings(environment="production", jwt_secret=SecretStr("j" * 40))
    with pytest.raises(ValueError, match="JWT_SECRET"):
        PanelSettings(environment="production", session_secret=SecretStr("s" * 40))


async def test_the_session_cookie_does_not_show_the_token(panel: Panel) -> None:
    async with httpx.AsyncClient(base_url=panel.url, timeout=10) as http:
        await signed_in(http, "c-bob")
        cookie = http.cookies["panel_session"]
    payload = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    assert payload["name"] == "Bob"
    assert not payload["token"].startswith("eyJ")  # a JWT's header; this one is sealed
