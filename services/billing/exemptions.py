"""Use cases of dunning exemptions: staff exempt a customer from automatic suspension and
termination, or end it. Each change is announced (``dunning.exemption_changed``) so the
audit journal of every order it affects records who decided it, when and why."""

from __future__ import annotations

from services.billing import events
from services.billing import repository as repo
from services.billing.domain import Exemption, ExemptionNotFound
from services.billing.events import Origin
from services.kit.db import UnitOfWork


async def exempt(work: UnitOfWork, *, customer_id: str, reason: str, origin: Origin) -> Exemption:
    """Exempt the customer (again, with a new reason, when already exempt)."""
    exemption = Exemption(customer_id, reason, origin.actor.id, origin.now)
    await repo.set_exemption(work.session, exemption)
    await _announce(work, customer_id, reason, origin)
    return exemption


async def end_exemption(work: UnitOfWork, *, customer_id: str, origin: Origin) -> None:
    """Dunning applies to the customer again; ending no exemption changes nothing."""
    if await repo.drop_exemption(work.session, customer_id):
        await _announce(work, customer_id, None, origin)


async def get_exemption(work: UnitOfWork, *, customer_id: str) -> Exemption:
    found = await repo.get_exemption(work.session, customer_id)
    if found is None:
        raise ExemptionNotFound(customer_id)
    return found


async def _announce(work: UnitOfWork, customer_id: str, reason: str | None, origin: Origin) -> None:
    orders = await repo.live_orders_of(work.session, customer_id)
    work.publish(events.exemption_changed(customer_id, orders, reason, origin))
