"""The notifier service: reminders, critical notices, banners, email and support tickets."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from contracts import NOTIFIER
from services.kit import parking
from services.kit.clock import Clock
from services.kit.runtime import Runtime
from services.kit.service import service_app
from services.notifier import jobs, reactions
from services.notifier.api import router
from services.notifier.domain import (
    BannerNotDismissible,
    BannerNotFound,
    OrderNotFound,
    Placements,
    StaffDesk,
    TicketNotFound,
)
from services.notifier.mailer import Smtp
from services.notifier.notices import Teller
from services.notifier.render import Renderer
from services.notifier.settings import NotifierSettings

TITLE = "Notifier"
DESCRIPTION = "Renewal reminders, critical notices as banners and email, and support tickets."

DOMAIN_ERRORS: dict[type[Exception], int] = {
    OrderNotFound: 404,
    TicketNotFound: 404,
    BannerNotFound: 404,
    BannerNotDismissible: 409,
}


def create_runtime(
    settings: NotifierSettings, registry: CollectorRegistry, clock: Clock | None = None
) -> tuple[Runtime, Teller]:
    """The runtime with the notifier's consumers and jobs, and how it tells people."""
    runtime = Runtime(settings, publishes_on=NOTIFIER, registry=registry, clock=clock)
    teller = Teller(
        renderer=Renderer(settings.panel_url),
        placements=Placements(settings.banner_placements),
        desk=StaffDesk(settings.staff_queue_address, settings.staff_mail_domain),
        desk_url=settings.back_office_url.rstrip("/"),
    )
    reactions.subscribe(runtime, teller)
    jobs.register(runtime, teller, settings)
    parking.schedule_expiry(runtime, registry)
    return runtime, teller


def create_app(settings: NotifierSettings, clock: Clock | None = None) -> FastAPI:
    registry = CollectorRegistry()
    runtime, teller = create_runtime(settings, registry, clock)
    app = service_app(
        runtime,
        title=TITLE,
        description=DESCRIPTION,
        routers=[router],
        domain_errors=DOMAIN_ERRORS,
        registry=registry,
        checks={"smtp": Smtp.from_settings(settings).check},
    )
    app.state.teller = teller
    return app
