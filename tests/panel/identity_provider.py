"""A small OpenID Connect provider for the sign-in test, as a real HTTP server: discovery,
an authorization endpoint that knows one person, a token endpoint that checks PKCE, and its
keys. It stands for the provider's identity service, outside the platform."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from jwt.algorithms import RSAAlgorithm

from tests.helpers import eventually

CLIENT_ID = "order-panel"


@dataclass
class Provider:
    url: str
    person: dict[str, str]
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    grants: dict[str, dict[str, str]] = field(default_factory=dict)
    #: What the token endpoint was sent, for the test to read.
    exchanges: list[dict[str, str]] = field(default_factory=list)

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        async def keys() -> dict[str, Any]:
            public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
            return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            asked = dict(request.query_params)
            code = secrets.token_urlsafe(16)
            self.grants[code] = asked
            query = urlencode({"code": code, "state": asked["state"]})
            return RedirectResponse(f"{asked['redirect_uri']}?{query}", status_code=302)

        @app.post("/token")
        async def token(code: str = Form(), code_verifier: str = Form("")) -> dict[str, Any]:
            asked = self.grants.pop(code, None)
            self.exchanges.append({"code": code, "code_verifier": code_verifier})
            digest = hashlib.sha256(code_verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if asked is None or asked.get("code_challenge") != challenge:
                raise HTTPException(400, "invalid_grant")
            now = int(time.time())
            common = {"iss": self.url, "sub": self.person["sub"], "iat": now, "exp": now + 600}
            id_token = self.sign(
                {**common, **self.person, "aud": CLIENT_ID, "nonce": asked.get("nonce")}
            )
            access_token = self.sign({**common, **self.person, "aud": "order-platform"})
            return {
                "access_token": access_token,
                "id_token": id_token,
                "token_type": "Bearer",
                "expires_in": 600,
            }

        return app


@contextlib.asynccontextmanager
async def running_provider(port: int, person: dict[str, str]) -> AsyncIterator[Provider]:
    provider = Provider(f"http://127.0.0.1:{port}", person)
    server = uvicorn.Server(
        uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started, timeout=60, interval=0.05)
    try:
        yield provider
    finally:
        server.should_exit = True
        await task
