"""Bearer JWT authentication through a real FastAPI app, in process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from services.kit.auth import (
    Authenticator,
    CurrentPrincipal,
    InvalidCredentials,
    MissingClaim,
    Principal,
    Role,
    ServiceOrStaff,
    StaffPrincipal,
    mint_token,
)
from services.kit.mint_token import main as mint_token_main
from services.kit.problems import PROBLEM_RESPONSES, install_problem_handlers
from services.kit.settings import LOCAL_JWT_SECRET, ServiceSettings

SECRET = "test-secret-of-at-least-thirty-two-bytes!"
AUDIENCE = "order-platform"
#: Nothing listens on port 1: the key set fetch is refused at once, without DNS.
UNREACHABLE_JWKS = "http://127.0.0.1:1/.well-known/jwks.json"
REPO = Path(__file__).resolve().parents[2]


def token(
    role: Role = Role.CUSTOMER,
    *,
    secret: str = SECRET,
    audience: str = AUDIENCE,
    **claims: Any,
) -> str:
    values: dict[str, Any] = {"sub": "c-1", "name": "Ada", "email": "ada@example.com"}
    return mint_token(secret, role=role, audience=audience, **{**values, **claims})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def principal_json(principal: Principal) -> dict[str, Any]:
    return {
        "id": principal.id,
        "role": principal.role,
        "name": principal.name,
        "email": principal.email,
        "locale": principal.locale,
    }


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.authenticator = Authenticator(audience=AUDIENCE, secret=SECRET)

    @app.get("/me", responses=PROBLEM_RESPONSES)
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return principal_json(principal)

    @app.get("/staff-only")
    async def staff_only(principal: StaffPrincipal) -> dict[str, Any]:
        return principal_json(principal)

    @app.get("/operations")
    async def operations(principal: ServiceOrStaff) -> dict[str, Any]:
        return principal_json(principal)

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_valid_token_gives_its_principal(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=bearer(token(locale="de")))

    assert response.status_code == 200
    assert response.json() == {
        "id": "c-1",
        "role": "customer",
        "name": "Ada",
        "email": "ada@example.com",
        "locale": "de",
    }


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "A bearer token is required"),
        ({"Authorization": "Basic YWRhOnNlY3JldA=="}, "A bearer token is required"),
        (bearer("not-a-jwt"), "The token is not valid"),
        (
            bearer(token(issued_at=datetime.now(UTC) - timedelta(days=2), ttl=timedelta(hours=1))),
            "The token has expired",
        ),
        (bearer(token(secret="another-secret-of-at-least-thirty-two-bytes")), "signature"),
        (bearer(token(audience="someone-else")), "another audience"),
    ],
    ids=["missing", "other-scheme", "garbage", "expired", "wrong-signature", "wrong-audience"],
)
async def test_a_bad_or_missing_token_is_a_401_problem(
    client: httpx.AsyncClient, headers: dict[str, str], detail: str
) -> None:
    response = await client.get("/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Not authenticated"
    assert detail in problem["detail"]


async def test_a_token_with_an_unknown_role_is_refused(client: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "x", "role": "admin", "aud": AUDIENCE, "iat": now, "exp": now + timedelta(1)}
    response = await client.get("/me", headers=bearer(jwt.encode(claims, SECRET)))

    assert response.status_code == 401


def bare_token(**claims: Any) -> str:
    """A customer token with exactly these claims besides the required ones (None: absent)."""
    now = datetime.now(UTC)
    values = {
        "sub": "c-1",
        "role": "customer",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(1),
    }
    values.update(claims)
    return jwt.encode({k: v for k, v in values.items() if v is not None}, SECRET)


@pytest.mark.parametrize(
    ("claims", "seen"),
    [
        ({}, {"name": "c-1", "email": None, "locale": "en"}),
        ({"name": "", "email": "ada@example.com"}, {"name": "c-1", "email": "ada@example.com"}),
        ({"locale": "en_US"}, {"locale": "en"}),
        ({"locale": 7}, {"locale": "en"}),
        ({"locale": "pl"}, {"locale": "pl"}),
        ({"name": "N" * 200}, {"name": "N" * 200}),
    ],
    ids=["no optional claim", "blank name", "locale of another form", "odd locale", "pl", "long"],
)
async def test_optional_claims_missing_or_odd_still_give_a_principal(
    client: httpx.AsyncClient, claims: dict[str, Any], seen: dict[str, Any]
) -> None:
    response = await client.get("/me", headers=bearer(bare_token(**claims)))

    assert response.status_code == 200, response.text
    assert seen.items() <= response.json().items()


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "someone@customers.invalid"}, "email"),
        ({"sub": "c" * 201}, "sub"),
        ({"name": "N" * 201}, "name"),
        ({"name": 42}, "name"),
    ],
    ids=["not an address", "special-use domain", "long subject", "long name", "number name"],
)
async def test_claims_the_platform_cannot_keep_are_a_401_naming_them(
    client: httpx.AsyncClient, claims: dict[str, Any], named: str
) -> None:
    response = await client.get("/me", headers=bearer(bare_token(**claims)))

    assert response.status_code == 401, response.text
    assert response.json()["detail"] == f"The token's claims are not valid: {named}"


def test_a_request_that_needs_the_email_claim_is_a_403_naming_it() -> None:
    principal = Principal(id="c-1", role=Role.CUSTOMER, name="Ada")
    with pytest.raises(
        MissingClaim,
        match="Placing an order needs an email address: the token has no 'email' claim",
    ) as raised:
        principal.required_email("Placing an order")
    assert raised.value.status == 403
    assert Principal("c-1", Role.CUSTOMER, "Ada", "a@example.com").required_email("x") == (
        "a@example.com"
    )


async def test_a_customer_on_a_staff_route_is_a_403_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/staff-only", headers=bearer(token(Role.CUSTOMER)))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Only staff may do this"


async def test_staff_may_use_a_staff_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/staff-only", headers=bearer(token(Role.STAFF, sub="s-1")))

    assert response.status_code == 200
    assert response.json()["role"] == "staff"


@pytest.mark.parametrize(
    ("role", "status"), [(Role.SERVICE, 200), (Role.STAFF, 200), (Role.CUSTOMER, 403)]
)
async def test_service_or_staff_routes_refuse_customers(
    client: httpx.AsyncClient, role: Role, status: int
) -> None:
    response = await client.get("/operations", headers=bearer(token(role)))

    assert response.status_code == status


def test_decode_names_the_failure() -> None:
    authenticator = Authenticator(audience=AUDIENCE, secret=SECRET)

    with pytest.raises(InvalidCredentials, match="expired"):
        authenticator.decode(token(issued_at=datetime(2020, 1, 1, tzinfo=UTC)))


def test_a_principal_without_display_name_is_named_by_its_subject() -> None:
    now = datetime.now(UTC)
    claims = {
        "sub": "billing",
        "role": "service",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    principal = Authenticator(audience=AUDIENCE, secret=SECRET).decode(jwt.encode(claims, SECRET))

    assert principal == Principal(id="billing", role=Role.SERVICE, name="billing")
    assert principal.is_service
    assert not principal.is_staff
    assert not principal.is_customer


def test_the_authenticator_follows_the_settings() -> None:
    local = Authenticator.from_settings(ServiceSettings())
    assert local.decode(token(secret=LOCAL_JWT_SECRET)).id == "c-1"

    jwks = Authenticator.from_settings(ServiceSettings(JWT_JWKS_URL=UNREACHABLE_JWKS))
    with pytest.raises(jwt.PyJWKClientConnectionError):
        jwks.decode(token(secret=LOCAL_JWT_SECRET))  # it asks the key set, not the secret


async def test_an_unreachable_key_set_is_a_503_not_a_401() -> None:
    app = make_app()
    app.state.authenticator = Authenticator(audience=AUDIENCE, jwks_url=UNREACHABLE_JWKS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers=bearer(token()))

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_openapi_shows_the_bearer_scheme() -> None:
    schema = make_app().openapi()

    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/me"]["get"]["security"] == [{"HTTPBearer": []}]


def test_the_mint_token_command_prints_a_token_the_services_accept(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    argv = ["--role", "staff", "--sub", "s-7", "--name", "Grace", "--email", "g@example.com"]

    assert mint_token_main([*argv, "--locale", "de", "--ttl-hours", "2"]) == 0

    principal = Authenticator(audience=AUDIENCE, secret=SECRET).decode(
        capsys.readouterr().out.strip()
    )
    assert principal == Principal("s-7", Role.STAFF, "Grace", "g@example.com", "de")


def test_the_mint_token_module_runs_with_the_local_secret_by_default() -> None:
    command = [sys.executable, "-m", "services.kit.mint_token", "--role", "customer"]
    command += ["--sub", "c-9", "--name", "Ada", "--email", "ada@example.com"]
    env = {"PATH": "/usr/bin:/bin"}  # no JWT_SECRET: the local one

    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, check=True)

    principal = Authenticator(audience=AUDIENCE, secret=LOCAL_JWT_SECRET).decode(
        result.stdout.strip()
    )
    assert principal.id == "c-9"
    assert principal.is_customer
