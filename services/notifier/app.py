"""The notifier service: reminders, critical notices, banners, email and support tickets."""

from __future__ import annotations

from fastapi import FastAPI

from contracts import NOTIFIER
from services.kit import parking
from services.kit.runtime import Runtime
from services.kit.service import ServiceShape
from services.notifier import jobs, reactions
from services.notifier.api import router
from services.notifier.domain import Placements, StaffDesk
from services.notifier.errors import (
    BannerNotDismissible,
    BannerNotFound,
    OrderNotFound,
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


def wire(settings: NotifierSettings, runtime: Runtime, app: FastAPI) -> None:
    """The notifier's consumers and jobs, and how it tells people (its routes read it too)."""
    teller = Teller(
        renderer=Renderer(settings.panel_url),
        placements=Placements(settings.banner_placements),
        desk=StaffDesk(settings.staff_queue_address, settings.staff_mail_domain),
        desk_url=settings.back_office_url.rstrip("/"),
    )
    reactions.subscribe(runtime, teller)
    jobs.register(runtime, teller, settings)
    parking.schedule_expiry(runtime, runtime.registry)
    app.state.teller = teller


SERVICE = ServiceShape(
    title=TITLE,
    description=DESCRIPTION,
    publishes_on=NOTIFIER,
    routers=[router],
    domain_errors=DOMAIN_ERRORS,
    wire=wire,
    checks=lambda settings: {"smtp": Smtp.from_settings(settings).check},
)
create_app = SERVICE.create_app
