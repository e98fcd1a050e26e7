"""Telling a customer something: one notice becomes a banner and a mail intent, rendered in
the customer's language and recorded in the caller's unit of work under the notice's key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from services.kit.db import UnitOfWork
from services.notifier import repository
from services.notifier.domain import MailStatus, Notice, Placements, StaffDesk
from services.notifier.render import Renderer


@dataclass(frozen=True)
class Teller:
    """How the notifier tells someone: the renderer, where banners go, the staff desk."""

    renderer: Renderer
    placements: Placements = field(default_factory=Placements)
    desk: StaffDesk = field(default_factory=StaffDesk)
    desk_url: str = "https://backoffice.hosting.example"
    """Base of the back office, where staff notices lead."""


async def tell(
    work: UnitOfWork,
    teller: Teller,
    order: Row[Any],
    notice: Notice,
    *,
    now: datetime,
    **values: Any,
) -> bool:
    """Record the notice's banner and mail for the order's customer; ``False`` when a notice
    with this key exists already (a repeated fact), in which case nothing changes."""
    rendered = teller.renderer.notice(
        notice.kind,
        locale=order.locale,
        severity=notice.severity,
        link=notice.link,
        name=order.customer_name,
        service=order.service_name,
        **values,
    )
    told = False
    if notice.banner:
        told = await repository.add_banner(
            work.session,
            repository.NewBanner(
                id=uuid.uuid4(),
                key=notice.key,
                cause=notice.cause,
                customer_id=order.customer_id,
                order_id=order.order_id,
                kind=notice.kind.value,
                severity=notice.severity.value,
                placement=teller.placements.of(notice.kind).value,
                text=rendered.banner,
                link=notice.link,
                created_at=now,
            ),
        )
    if notice.email:
        told = await repository.add_mail(
            work.session,
            repository.NewMail(
                id=uuid.uuid4(),
                key=notice.key,
                order_id=order.order_id,
                kind=notice.kind.value,
                recipient=order.email,
                subject=rendered.subject,
                language=rendered.language,
                text_body=rendered.text,
                html_body=rendered.html,
                status=MailStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
            ),
        )
    return told
