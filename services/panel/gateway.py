"""The four services, as the panel calls them: their public HTTP APIs with the signed-in
user's bearer token, as any gateway would.

A service that does not answer is ``ServiceDown``; one that refuses is ``ServiceProblem``
with its RFC 9457 problem details, which pages show next to what failed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.panel.settings import PanelSettings

SERVICES = ("orders", "billing", "notifier", "audit")


class ServiceDown(Exception):
    """A service did not answer (refused, timed out, or said it is unavailable)."""

    def __init__(self, service: str) -> None:
        super().__init__(f"the {service} service is not answering")
        self.service = service


@dataclass
class ServiceProblem(Exception):
    """A service refused a request; its problem details, as it sent them."""

    service: str
    status: int
    title: str
    detail: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.detail or self.title

    @classmethod
    def from_response(cls, service: str, response: httpx.Response) -> ServiceProblem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(
            service=service,
            status=response.status_code,
            title=str(body.get("title") or response.reason_phrase),
            detail=body.get("detail"),
            errors=list(body.get("errors") or []),
        )


class Gateway:
    """One shared HTTP client; each call carries the caller's token."""

    def __init__(self, settings: PanelSettings, timeout: float = 10.0) -> None:
        self._urls = {
            "orders": settings.orders_url,
            "billing": settings.billing_url,
            "notifier": settings.notifier_url,
            "audit": settings.audit_url,
        }
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    def as_user(self, token: str) -> UserGateway:
        return UserGateway(self, token)

    async def send(
        self, service: str, method: str, path: str, token: str, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        try:
            response = await self._http.request(
                method, self._urls[service] + path, headers=headers, **kwargs
            )
        except httpx.TransportError as exc:
            raise ServiceDown(service) from exc
        if response.status_code in {502, 503, 504}:
            raise ServiceDown(service)
        if response.status_code >= 400:
            raise ServiceProblem.from_response(service, response)
        return response


@dataclass(frozen=True)
class UserGateway:
    """The services as one signed-in user sees them."""

    gateway: Gateway
    token: str

    async def get(self, service: str, path: str, **params: Any) -> Any:
        clean = {key: value for key, value in params.items() if value not in (None, "", [])}
        response = await self.gateway.send(service, "GET", path, self.token, params=clean)
        return response.json()

    async def raw(self, service: str, path: str, **params: Any) -> httpx.Response:
        return await self.gateway.send(service, "GET", path, self.token, params=params)

    async def post(self, service: str, path: str, body: Any = None, *, once: bool = False) -> Any:
        """POST ``body``; ``once`` adds an ``Idempotency-Key`` for endpoints that take one."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if once else {}
        response = await self.gateway.send(
            service, "POST", path, self.token, json=body, headers=headers
        )
        return response.json() if response.content else None

    async def put(self, service: str, path: str, body: Any) -> Any:
        response = await self.gateway.send(service, "PUT", path, self.token, json=body)
        return response.json() if response.content else None
