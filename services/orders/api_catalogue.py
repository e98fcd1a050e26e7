"""HTTP routes of the catalogue (products and tariff plans, edited by staff) and of the
customer's saved list view (the "Show:" menu)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.kit.auth import CurrentPrincipal, StaffPrincipal
from services.kit.problems import PROBLEM_RESPONSES
from services.kit.requests import Work
from services.orders import repository
from services.orders import schemas as s
from services.orders.catalogue import Plan
from services.orders.errors import InvalidField

router = APIRouter(tags=["catalogue"], responses=PROBLEM_RESPONSES)

Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]


@router.get("/catalogue", response_model=s.Catalogue, summary="Products and tariff plans")
async def catalogue(_principal: CurrentPrincipal, work: Work) -> s.Catalogue:
    listed = await repository.list_plans(work.session)
    products: dict[str, s.ProductOut] = {}
    for product_id, product_name, plan in listed:
        product = products.setdefault(
            product_id, s.ProductOut(id=product_id, name=product_name, plans=[])
        )
        product.plans.append(_plan_out(plan))
    return s.Catalogue(products=list(products.values()))


@router.put("/catalogue/products/{product_id}", status_code=204, summary="Create or edit a product")
async def put_product(
    product_id: Slug, body: s.ProductIn, _staff: StaffPrincipal, work: Work
) -> None:
    await repository.save_product(work.session, product_id, body.name)


@router.put("/catalogue/plans/{plan_id}", response_model=s.PlanOut, summary="Create or edit a plan")
async def put_plan(plan_id: Slug, body: s.PlanIn, _staff: StaffPrincipal, work: Work) -> s.PlanOut:
    """Prices and periods apply to new orders and renewals; placed orders keep their price."""
    plan = Plan(
        id=plan_id,
        product=body.product,
        name=body.name,
        monthly_price=body.monthly_price,
        currency=body.currency,
        periods=tuple(sorted(set(body.periods))),
        active=body.active,
    )
    if not await repository.product_exists(work.session, body.product):
        raise InvalidField("product", f"there is no product {body.product!r}")
    await repository.save_plan(work.session, plan)
    return _plan_out(plan)


def _plan_out(plan: Plan) -> s.PlanOut:
    return s.PlanOut(
        id=plan.id,
        product=plan.product,
        name=plan.name,
        monthly_price=s.money(plan.monthly_price, plan.currency),
        periods=list(plan.periods),
        active=plan.active,
    )


@router.get("/me/columns", response_model=s.Columns, summary="My order list's extra columns")
async def get_columns(principal: CurrentPrincipal, work: Work) -> s.Columns:
    columns = await repository.get_columns(work.session, principal.id)
    return s.Columns(columns=columns or [])


@router.put("/me/columns", response_model=s.Columns, summary="Save my extra columns")
async def put_columns(body: s.Columns, principal: CurrentPrincipal, work: Work) -> s.Columns:
    await repository.save_columns(work.session, principal.id, list(body.columns))
    return body
