"""Who is signed in, kept in the session cookie (signed, ``HttpOnly``, ``SameSite=Lax``,
``Secure`` outside local), and the CSRF token every form carries.

The bearer token lives only in the cookie, encrypted, and in the panel's calls to the
services: never in a URL, never in a page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Depends, Request
from starlette.datastructures import FormData

CSRF_FIELD = "csrf"


class SignInRequired(Exception):
    """No one is signed in (or the session ended): the sign-in page answers."""


class NotForYou(Exception):
    """A signed-in user asked for the other role's pages."""


class CsrfRefused(Exception):
    """A form came without this session's CSRF token."""


@dataclass(frozen=True)
class User:
    """The signed-in person and the token the services know them by."""

    sub: str
    name: str
    role: str
    token: str

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def home(self) -> str:
        return "/staff" if self.is_staff else "/"


class TokenVault:
    """Encrypts the bearer token for the cookie: signing alone would leave it readable."""

    def __init__(self, session_secret: str) -> None:
        digest = hashlib.sha256(b"panel session token\0" + session_secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


def _vault(request: Request) -> TokenVault:
    vault: TokenVault = request.app.state.token_vault
    return vault


def sign_in(request: Request, user: User) -> None:
    request.session.clear()
    request.session.update(
        {
            "sub": user.sub,
            "name": user.name,
            "role": user.role,
            "token": _vault(request).seal(user.token),
        }
    )
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use (the sign-in form needs one too)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


async def signed_in(request: Request) -> User:
    session = request.session
    token = _vault(request).open(str(session.get("token") or ""))
    if token is None:
        raise SignInRequired
    return User(sub=session["sub"], name=session["name"], role=session["role"], token=token)


async def customer(user: Annotated[User, Depends(signed_in)]) -> User:
    if user.is_staff:
        raise NotForYou
    return user


async def staff(user: Annotated[User, Depends(signed_in)]) -> User:
    if not user.is_staff:
        raise NotForYou
    return user


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, str(expected))):
        raise CsrfRefused
    return form


AnyUser = Annotated[User, Depends(signed_in)]
Customer = Annotated[User, Depends(customer)]
Staff = Annotated[User, Depends(staff)]
Form = Annotated[FormData, Depends(checked_form)]


def flash(request: Request, message: str) -> None:
    """A message for the next page the user sees (after a redirect), e.g. "Order cancelled"."""
    request.session["flash"] = message
