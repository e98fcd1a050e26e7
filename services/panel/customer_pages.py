"""The customer's pages: the dashboard, the Orders tab and each order's actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.panel.gateway import ServiceProblem
from services.panel.pages import back, services
from services.panel.rendering import render
from services.panel.session import Customer, Form, flash

router = APIRouter()

EXTRA_COLUMNS = ("comment", "batch_renewal", "id", "date")
STATUSES = (
    "not_processed",
    "in_progress",
    "processed",
    "on_hold",
    "cancelled",
    "suspended_violation",
    "suspended_non_payment",
)
SORT_KEYS = ("created_at", "service_name", "paid_until", "status")
FILTERS = ("service_name", "status", "created_from", "created_to", "comment", "id", "q")


@router.get("/")
async def dashboard(request: Request, user: Customer) -> Response:
    api = services(request, user)
    banners = await api.get("notifier", "/banners", placement="dashboard", limit=50)
    tickets = await api.get("notifier", "/tickets", limit=5)
    return render(
        request, "dashboard.html", banners=banners["items"], tickets=tickets["items"], here="/"
    )


@router.get("/orders")
async def orders_tab(request: Request, user: Customer) -> Response:
    api = services(request, user)
    query = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    sort = request.query_params.get("sort", "created_at")
    descending = request.query_params.get("descending", "true") != "false"
    cursor = request.query_params.get("cursor")
    listing: dict[str, Any] = {"items": [], "next_cursor": None, "columns": []}
    problem = None
    try:
        listing = await api.get(
            "orders",
            "/orders",
            **query,
            sort=sort if sort in SORT_KEYS else "created_at",
            descending=str(descending).lower(),
            limit=request.app.state.settings.orders_page_size,
            cursor=cursor,
        )
    except ServiceProblem as refused:
        problem = refused
        listing["columns"] = (await api.get("orders", "/me/columns"))["columns"]
    banners = await api.get("notifier", "/banners", placement="orders_tab", limit=50)
    return render(
        request,
        "orders.html",
        orders=listing["items"],
        columns=listing["columns"],
        next_cursor=listing["next_cursor"],
        first_page=cursor is None,
        query=query,
        sort=sort,
        descending=descending,
        filtered=any(query.values()),
        problem=problem,
        banners=banners["items"],
        extra_columns=EXTRA_COLUMNS,
        statuses=STATUSES,
        sort_keys=SORT_KEYS,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.post("/orders/columns")
async def save_columns(request: Request, user: Customer, form: Form) -> Response:
    chosen = [name for name in form.getlist("column") if name in EXTRA_COLUMNS]
    await services(request, user).put("orders", "/me/columns", {"columns": chosen})
    return back("/orders")


@router.post("/banners/{banner_id}/dismiss")
async def dismiss_banner(request: Request, user: Customer, banner_id: str, form: Form) -> Response:
    try:
        await services(request, user).post("notifier", f"/banners/{banner_id}/dismiss")
    except ServiceProblem as refused:
        flash(request, str(refused))
    next_page = str(form.get("next") or "/")
    return back(next_page if next_page.startswith("/") and not next_page.startswith("//") else "/")


@router.get("/orders/{order_id}")
async def manage(request: Request, user: Customer, order_id: str) -> Response:
    order = await services(request, user).get("orders", f"/orders/{order_id}")
    return render(request, "order.html", order=order)


@router.post("/orders/{order_id}/comment")
async def change_comment(request: Request, user: Customer, order_id: str, form: Form) -> Response:
    comment = str(form.get("comment") or "").strip() or None
    api = services(request, user)
    try:
        await api.put("orders", f"/orders/{order_id}/comment", {"comment": comment})
    except ServiceProblem as refused:
        order = await api.get("orders", f"/orders/{order_id}")
        return render(
            request, "order.html", status_code=refused.status, order=order, problem=refused
        )
    flash(request, "The comment is saved.")
    return back(f"/orders/{order_id}")


@router.get("/orders/{order_id}/invoices")
async def invoices(request: Request, user: Customer, order_id: str) -> Response:
    api = services(request, user)
    order = await api.get("orders", f"/orders/{order_id}")
    page = await api.get("billing", "/invoices", order_id=order_id, limit=100)
    return render(request, "invoices.html", order=order, invoices=page["items"])


@router.get("/orders/{order_id}/ticket")
async def ticket_form(request: Request, user: Customer, order_id: str) -> Response:
    order = await services(request, user).get("orders", f"/orders/{order_id}")
    return render(request, "ticket_form.html", order=order, subject="", message="")


@router.post("/orders/{order_id}/ticket")
async def open_ticket(request: Request, user: Customer, order_id: str, form: Form) -> Response:
    api = services(request, user)
    subject, message = str(form.get("subject") or ""), str(form.get("message") or "")
    body = {"order_id": order_id, "subject": subject, "message": message}
    try:
        ticket = await api.post("notifier", "/tickets", body, once=True)
    except ServiceProblem as refused:
        order = await api.get("orders", f"/orders/{order_id}")
        return render(
            request,
            "ticket_form.html",
            status_code=refused.status,
            order=order,
            subject=subject,
            message=message,
            problem=refused,
        )
    flash(request, "Your ticket is open; support will answer here and by email.")
    return back(f"/tickets/{ticket['id']}")


@router.get("/tickets")
async def tickets(request: Request, user: Customer) -> Response:
    page = await services(request, user).get("notifier", "/tickets", limit=100)
    return render(request, "tickets.html", tickets=page["items"])


@router.get("/tickets/{ticket_id}")
async def ticket(request: Request, user: Customer, ticket_id: str) -> Response:
    found = await services(request, user).get("notifier", f"/tickets/{ticket_id}")
    return render(request, "ticket.html", ticket=found)
