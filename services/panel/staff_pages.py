"""The back office: find an order, its page (header, actions, journal), and the journal's
"+" and export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.panel.gateway import ServiceProblem
from services.panel.pages import back, services
from services.panel.rendering import render
from services.panel.session import Form, Staff, User, flash

router = APIRouter(prefix="/staff")

SEARCH_FIELDS = ("customer", "service_name", "id", "q")


@router.get("")
async def find(request: Request, user: Staff) -> Response:
    query = {name: request.query_params.get(name, "").strip() for name in SEARCH_FIELDS}
    found, problem = None, None
    if any(query.values()):
        try:
            page = await services(request, user).get("orders", "/orders", **query, limit=50)
            found = page["items"]
        except ServiceProblem as refused:
            problem = refused
    return render(request, "staff_find.html", query=query, found=found, problem=problem)


async def order_page(
    request: Request, user: User, order_id: str, status_code: int = 200, **context: Any
) -> Response:
    """The staff order page; ``context`` carries a refused action's problem and its form."""
    api = services(request, user)
    order = await api.get("orders", f"/orders/{order_id}")
    journal = await api.get("audit", f"/orders/{order_id}/journal", order="newest", limit=200)
    verification = await api.get("audit", f"/orders/{order_id}/journal/verify")
    return render(
        request,
        "staff_order.html",
        status_code=status_code,
        order=order,
        journal=journal,
        verification=verification,
        **context,
    )


@router.get("/orders/{order_id}")
async def order(request: Request, user: Staff, order_id: str) -> Response:
    return await order_page(request, user, order_id)


def _remind_at(value: str) -> str:
    """The ``datetime-local`` field's value, read as UTC (the page says so)."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    except ValueError:
        return value


def _action_body(action: str, form: Any) -> dict[str, Any] | None:
    text = {name: str(form.get(name) or "").strip() for name in form}
    if action == "hold":
        return {
            "reason": text.get("reason", ""),
            "remind_at": _remind_at(text.get("remind_at", "")),
        }
    if action == "cancel":
        return {
            "at_period_end": text.get("when") == "period_end",
            "reason": text.get("reason") or None,
        }
    if action == "complete":
        return {
            "contract": text.get("contract", ""),
            "main_ip": text.get("main_ip", ""),
            "starts_on": text.get("starts_on", ""),
        }
    return None


ACTIONS = {
    "hold": "The order is on hold.",
    "release": "The order is released.",
    "cancel": "The order is cancelled.",
    "complete": "The order is completed.",
}


@router.post("/orders/{order_id}/{action}")
async def act(request: Request, user: Staff, order_id: str, action: str, form: Form) -> Response:
    if action not in ACTIONS:
        return render(request, "not_found.html", status_code=404)
    try:
        await services(request, user).post(
            "orders", f"/orders/{order_id}/{action}", _action_body(action, form)
        )
    except ServiceProblem as refused:
        return await order_page(
            request, user, order_id, refused.status, problem=refused, failed=action, sent=form
        )
    flash(request, ACTIONS[action])
    return back(f"/staff/orders/{order_id}")


@router.post("/orders/{order_id}/journal/entries")
async def add_entry(request: Request, user: Staff, order_id: str, form: Form) -> Response:
    body = {
        "title": str(form.get("title") or "").strip(),
        "details": str(form.get("details") or "").strip(),
        "visible_to_customer": form.get("visible_to_customer") == "yes",
    }
    try:
        await services(request, user).post(
            "audit", f"/orders/{order_id}/journal/entries", body, once=True
        )
    except ServiceProblem as refused:
        return await order_page(
            request, user, order_id, refused.status, problem=refused, failed="entry", sent=form
        )
    flash(request, "The entry is added to the journal.")
    return back(f"/staff/orders/{order_id}")


@router.get("/orders/{order_id}/journal/export")
async def export(request: Request, user: Staff, order_id: str) -> Response:
    kind = "csv" if request.query_params.get("format") == "csv" else "jsonl"
    found = await services(request, user).raw(
        "audit", f"/orders/{order_id}/journal/export", format=kind
    )
    return Response(
        found.content,
        media_type=found.headers.get("content-type", "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="journal-{order_id}.{kind}"'},
    )
