"""Staff notices: telling staff about an order, by mail to the staff member concerned and the
staff queue, and on the staff list (``GET /staff/notices``). Today one kind: a held order
whose reminder time has come."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from contracts import OrderHoldReminderDue
from services.kit.db import UnitOfWork
from services.notifier import domain, repository
from services.notifier.domain import MailStatus
from services.notifier.notices import Teller


async def remind_of_hold(
    work: UnitOfWork, teller: Teller, order: Row[Any], event: OrderHoldReminderDue, now: datetime
) -> None:
    """The hold's reminder time came: the staff member who held the order and the queue are
    mailed, and the notice joins the staff list; a repeated event changes nothing."""
    data = event.data
    held_by = data.held_by
    link = f"/orders/{order.order_id}"
    rendered = teller.renderer.staff(
        domain.HOLD_REMINDER,
        url=teller.desk_url + link,
        service=order.service_name,
        customer=order.customer_name,
        reason=data.reason,
        remind_at=f"{data.remind_at:%Y-%m-%d %H:%M} UTC",
    )
    key = domain.hold_reminder_key(event.event_id)
    if not await repository.add_staff_notice(
        work.session,
        repository.NewStaffNotice(
            id=uuid.uuid4(),
            key=key,
            kind=domain.HOLD_REMINDER,
            order_id=order.order_id,
            staff_id=held_by.id if held_by else None,
            staff_name=held_by.name if held_by else None,
            text=rendered.banner,
            link=link,
            due_at=data.remind_at,
            created_at=now,
        ),
    ):
        return
    for recipient in teller.desk.recipients(held_by.id if held_by else None):
        await repository.add_mail(
            work.session,
            repository.NewMail(
                id=uuid.uuid4(),
                key=f"{key}:{recipient}",
                order_id=order.order_id,
                kind=domain.HOLD_REMINDER,
                recipient=recipient,
                language=rendered.language,
                subject=rendered.subject,
                text_body=rendered.text,
                html_body=rendered.html,
                status=MailStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
            ),
        )


async def notices(
    work: UnitOfWork, *, staff_id: str | None, after: repository.Cursor | None, limit: int
) -> Sequence[Any]:
    """Staff notices, newest first: every one (the queue), or those for one staff member."""
    return await repository.list_staff_notices(work.session, staff_id, after=after, limit=limit)
