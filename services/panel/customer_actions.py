"""The customer's actions that change an order: renew (one or a batch) and cancel.

Each is a form, then a confirmation the customer reads before anything changes; a refusal
from the orders service is shown on the form, next to what was refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.panel.gateway import ServiceProblem, UserGateway
from services.panel.pages import back, form_int, services
from services.panel.rendering import render
from services.panel.session import Customer, Form, flash

router = APIRouter()


async def periods_of(api: UserGateway, order: dict[str, Any]) -> list[dict[str, Any]]:
    """The renewal periods the order's plan allows, each with its price.

    The orders service has no price quote endpoint: the price is the plan's monthly price
    times the months, which is the catalogue's rule (``Plan.price_for``)."""
    catalogue = await api.get("orders", "/catalogue")
    plans = [plan for product in catalogue["products"] for plan in product["plans"]]
    plan = next((p for p in plans if p["id"] == order["plan"]), None)
    if plan is None:
        return [{"months": order["period_months"], "price": None}]
    monthly = plan["monthly_price"]
    return [
        {
            "months": months,
            "price": {
                "amount": str(Decimal(monthly["amount"]) * months),
                "currency": monthly["currency"],
            },
        }
        for months in plan["periods"]
    ]


@router.get("/orders/{order_id}/renew")
async def renew_form(request: Request, user: Customer, order_id: str) -> Response:
    api = services(request, user)
    order = await api.get("orders", f"/orders/{order_id}")
    return render(request, "renew.html", order=order, periods=await periods_of(api, order))


@router.post("/orders/{order_id}/renew")
async def renew(request: Request, user: Customer, order_id: str, form: Form) -> Response:
    api = services(request, user)
    months = form_int(form.get("period_months"))
    try:
        renewal = await api.post("orders", f"/orders/{order_id}/renew", {"period_months": months})
    except ServiceProblem as refused:
        order = await api.get("orders", f"/orders/{order_id}")
        periods = await periods_of(api, order)
        return render(
            request,
            "renew.html",
            status_code=refused.status,
            order=order,
            periods=periods,
            problem=refused,
        )
    return render(request, "renewed.html", renewal=renewal)


@router.get("/renewals")
async def batch_form(request: Request, user: Customer) -> Response:
    api = services(request, user)
    chosen = request.query_params.getlist("order")
    if not chosen:
        flash(request, "Tick the orders to renew in the batch renewal column first.")
        return back("/orders")
    orders = [await api.get("orders", f"/orders/{order_id}") for order_id in chosen]
    lines = [{"order": order, "periods": await periods_of(api, order)} for order in orders]
    return render(request, "batch_renew.html", lines=lines)


@router.post("/renewals")
async def batch_renew(request: Request, user: Customer, form: Form) -> Response:
    api = services(request, user)
    items = [
        {"order_id": order_id, "period_months": form_int(form.get(f"months-{order_id}"))}
        for order_id in form.getlist("order")
    ]
    try:
        renewal = await api.post("orders", "/orders/renewals", {"items": items})
    except ServiceProblem as refused:
        orders = [await api.get("orders", f"/orders/{item['order_id']}") for item in items]
        lines = [{"order": order, "periods": await periods_of(api, order)} for order in orders]
        return render(
            request, "batch_renew.html", status_code=refused.status, lines=lines, problem=refused
        )
    return render(request, "renewed.html", renewal=renewal)


@router.get("/orders/{order_id}/cancel")
async def cancel_form(request: Request, user: Customer, order_id: str) -> Response:
    order = await services(request, user).get("orders", f"/orders/{order_id}")
    return render(request, "cancel.html", order=order, step="choose", reason="", when="now")


@router.post("/orders/{order_id}/cancel")
async def cancel(request: Request, user: Customer, order_id: str, form: Form) -> Response:
    """First post: the confirmation page; second post (``confirmed``): the cancellation."""
    api = services(request, user)
    when = "period_end" if form.get("when") == "period_end" else "now"
    reason = str(form.get("reason") or "").strip()
    order = await api.get("orders", f"/orders/{order_id}")
    if form.get("confirmed") != "yes":
        return render(request, "cancel.html", order=order, step="confirm", reason=reason, when=when)
    body = {"at_period_end": when == "period_end", "reason": reason or None}
    try:
        await api.post("orders", f"/orders/{order_id}/cancel", body)
    except ServiceProblem as refused:
        return render(
            request,
            "cancel.html",
            status_code=refused.status,
            order=order,
            step="choose",
            reason=reason,
            when=when,
            problem=refused,
        )
    flash(
        request,
        "The order ends at the end of its paid period."
        if when == "period_end"
        else "The order is cancelled.",
    )
    return back(f"/orders/{order_id}")


@router.post("/orders/{order_id}/revoke-cancellation")
async def revoke_cancellation(
    request: Request, user: Customer, order_id: str, _form: Form
) -> Response:
    await services(request, user).post("orders", f"/orders/{order_id}/revoke-cancellation")
    flash(request, "The order continues: the cancellation is revoked.")
    return back(f"/orders/{order_id}")
