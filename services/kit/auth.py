"""Bearer JWT authentication: who is calling, as a ``Principal``, for every route.

Tokens are HS256 with the configured secret, or RS256 against a JWKS when ``JWT_JWKS_URL`` is
set. ``create_app`` puts an ``Authenticator`` on ``app.state.authenticator``; the dependencies
below read it from there.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, EmailStr, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from contracts.envelope import ShortText
from services.kit.problems import Forbidden, Unauthenticated, problem_type
from services.kit.settings import ServiceSettings

REQUIRED_CLAIMS = ("sub", "role", "aud", "exp", "iat")


class Role(StrEnum):
    """What kind of caller a token stands for."""

    CUSTOMER = "customer"
    STAFF = "staff"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request."""

    id: str
    role: Role
    name: str
    email: str | None = None
    locale: str = "en"

    def required_email(self, needed_for: str) -> str:
        """The caller's email address; ``MissingClaim`` (403) when the token carries none."""
        if self.email is None:
            raise MissingClaim(
                f"{needed_for} needs an email address: the token has no 'email' claim"
            )
        return self.email

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def is_customer(self) -> bool:
        return self.role is Role.CUSTOMER

    @property
    def is_service(self) -> bool:
        return self.role is Role.SERVICE


class InvalidCredentials(Exception):
    """A token that is malformed, expired, badly signed, for another audience or lacks claims."""


class MissingClaim(Forbidden):
    """The token is valid, but lacks an optional claim that this request needs."""

    title = "Missing claim"
    type = problem_type("MissingClaim")


#: The languages an event can carry (``contracts.envelope.Customer.locale``).
_LOCALE = re.compile(r"[a-z]{2}(-[A-Z]{2})?")


class _Claims(BaseModel):
    """The claims a service reads. What it keeps of the caller (the customer of an order, the
    actor of an event) must fit the contracts and tables, so a token whose identity does not
    fit them is refused here, not failed on later with a 500."""

    model_config = ConfigDict(extra="ignore")

    sub: ShortText
    role: Role
    name: ShortText | None = None
    email: EmailStr | None = None
    locale: str = "en"

    @field_validator("name", mode="before")
    @classmethod
    def _blank_is_none(cls, name: object) -> object:
        return None if name == "" else name  # shown as the subject, as when absent

    @field_validator("locale", mode="before")
    @classmethod
    def _language_we_write(cls, locale: object) -> object:
        # A language tag of another form (en_US, "English") is no reason to refuse the caller:
        # they are written to in the default language.
        return locale if isinstance(locale, str) and _LOCALE.fullmatch(locale) else "en"


#: How many checked tokens an authenticator remembers (the oldest forgotten first).
CHECKED_TOKENS = 10_000


class Authenticator:
    """Decodes and checks bearer tokens."""

    def __init__(
        self,
        *,
        audience: str,
        secret: str | None = None,
        jwks_url: str | None = None,
        leeway: timedelta = timedelta(seconds=30),
    ) -> None:
        if (secret is None) == (jwks_url is None):
            raise ValueError("an Authenticator needs exactly one of secret and jwks_url")
        self.audience = audience
        self._secret = secret
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._leeway = leeway
        #: Tokens checked already, with the time they expire: a client sends the same token
        #: with every request, and checking it again (signature, claims, e-mail syntax) was
        #: a tenth of a list request's time.
        self._checked: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Authenticator:
        """JWKS when ``JWT_JWKS_URL`` is set, otherwise the HS256 ``JWT_SECRET``."""
        if settings.jwt_jwks_url:
            return cls(audience=settings.jwt_audience, jwks_url=settings.jwt_jwks_url)
        return cls(audience=settings.jwt_audience, secret=settings.jwt_secret.get_secret_value())

    def decode(self, token: str) -> Principal:
        """The principal a token names; raises ``InvalidCredentials`` if it is not valid.

        With JWKS, ``jwt.PyJWKClientConnectionError`` passes through when the keys cannot be
        fetched; the problem handlers answer it with 503.
        """
        checked = self._checked.get(token)
        if checked is not None and time.time() < checked[1]:
            return checked[0]
        principal, expires = self._decode(token)
        self._checked[token] = (principal, expires)
        if len(self._checked) > CHECKED_TOKENS:
            self._checked.popitem(last=False)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            key, algorithm = self._key_for(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
            parsed = _Claims.model_validate(claims)
        except jwt.PyJWKClientConnectionError:
            raise  # the identity provider is down, not the token bad: a 503, not a 401
        except jwt.PyJWTError as exc:
            raise InvalidCredentials(_describe(exc)) from exc
        except ValidationError as exc:
            claims_named = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
            raise InvalidCredentials(f"The token's claims are not valid: {claims_named}") from exc
        principal = Principal(
            id=parsed.sub,
            role=parsed.role,
            name=parsed.name or parsed.sub,
            email=parsed.email,
            locale=parsed.locale,
        )
        return principal, float(claims["exp"]) + self._leeway.total_seconds()

    async def authenticate(self, token: str) -> Principal:
        """``decode`` without blocking the event loop on a JWKS fetch."""
        if self._jwks is None or token in self._checked:
            return self.decode(token)
        return await run_in_threadpool(self.decode, token)

    def _key_for(self, token: str) -> tuple[Any, str]:
        if self._jwks is None:
            return self._secret, "HS256"
        return self._jwks.get_signing_key_from_jwt(token).key, "RS256"


def _describe(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "The token has expired"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "The token is for another audience"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "The token's signature is not valid"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"The token lacks the '{exc.claim}' claim"
    return "The token is not valid"


def mint_token(
    secret: str,
    *,
    sub: str,
    role: Role | str,
    name: str,
    email: str | None = None,
    locale: str = "en",
    ttl: timedelta = timedelta(hours=24),
    audience: str = "order-platform",
    issued_at: datetime | None = None,
) -> str:
    """An HS256 token for local use and tests; ``issued_at`` defaults to now."""
    iat = issued_at or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "role": str(Role(role)),
        "name": name,
        "locale": locale,
        "aud": audience,
        "iat": iat,
        "exp": iat + ttl,
    }
    if email is not None:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm="HS256")


# --- FastAPI dependencies ---------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="A JWT from the identity provider.")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, of any role; 401 when the bearer token is missing or not valid."""
    if credentials is None:
        raise Unauthenticated("A bearer token is required")
    authenticator: Authenticator = request.app.state.authenticator
    try:
        return await authenticator.authenticate(credentials.credentials)
    except InvalidCredentials as exc:
        raise Unauthenticated(str(exc)) from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def staff_principal(principal: CurrentPrincipal) -> Principal:
    """The caller, who must be staff; 403 otherwise."""
    if not principal.is_staff:
        raise Forbidden("Only staff may do this")
    return principal


async def service_or_staff_principal(principal: CurrentPrincipal) -> Principal:
    """The caller, who must be staff or another service; 403 for customers."""
    if not (principal.is_staff or principal.is_service):
        raise Forbidden("Only staff or services may do this")
    return principal


StaffPrincipal = Annotated[Principal, Depends(staff_principal)]
ServiceOrStaff = Annotated[Principal, Depends(service_or_staff_principal)]
