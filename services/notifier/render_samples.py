"""Print one email of each kind as customers receive it (the text part, or ``--html``).

uv run python -m services.notifier.render_samples --locale de
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any
from uuid import UUID

from services.notifier import domain
from services.notifier.domain import Notice, NoticeKind, Placements
from services.notifier.render import Rendered, Renderer

ORDER = UUID("3f8e2a6c-0d7b-4c1e-9a55-6b1f0e2d4c21")
EVENT = UUID("00000000-0000-4000-8000-000000000001")

SAMPLES: list[tuple[Notice, dict[str, Any]]] = [
    (
        domain.reminder_notice(ORDER, date(2025, 4, 30), 7),
        {"days_left": 7, "paid_until": "2025-04-30"},
    ),
    (domain.acceptance_notice(ORDER, EVENT), {}),
    (domain.suspension_notice(ORDER, EVENT, violation=False), {"reason": None}),
    (
        domain.suspension_notice(ORDER, EVENT, violation=True),
        {"reason": "spam sent from the server"},
    ),
    (domain.cancellation_notice(ORDER, EVENT), {"reason": "no longer needed"}),
    (
        domain.overdue_notice(ORDER, EVENT, EVENT, stage="overdue"),  # type: ignore[list-item]
        {"invoice_number": "INV-2025-0042", "due_on": "2025-02-20"},
    ),
    (
        domain.invoice_reminder_notice(ORDER, EVENT, -3),
        {
            "invoice_number": "INV-2025-0042",
            "due_on": "2025-02-20",
            "past_due": False,
            "total": "4.00 EUR",
        },
    ),
    (
        domain.incident_notice(ORDER, "inc-81", severity="major"),
        {"summary": "Disk failure on the host; the server is being moved."},
    ),
]


def samples(locale: str) -> list[tuple[Notice, Rendered]]:
    """One notice of each kind, rendered in a language, for a customer called Anna Nowak."""
    renderer = Renderer("https://panel.hosting.example")
    return [
        (
            notice,
            renderer.notice(
                NoticeKind(notice.kind),
                locale=locale,
                severity=notice.severity,
                link=notice.link,
                name="Anna Nowak",
                service="r1z7og44",
                **values,
            ),
        )
        for notice, values in SAMPLES
    ]


def staff_samples() -> list[tuple[str, Rendered]]:
    """One staff notice of each kind, in the back office's language (English)."""
    renderer = Renderer("https://panel.hosting.example")
    hold = renderer.staff(
        domain.HOLD_REMINDER,
        url=f"https://backoffice.hosting.example/orders/{ORDER}",
        service="r1z7og44",
        customer="Anna Nowak",
        reason="Waiting for the customer's ID document",
        remind_at="2025-03-03 09:00 UTC",
    )
    return [(domain.HOLD_REMINDER, hold)]


def render(locale: str, html: bool) -> str:
    parts = []
    for notice, mail in samples(locale):
        body = mail.html if html else mail.text
        placement = Placements().of(notice.kind).value
        parts.append(
            f"=== {notice.kind.value} ({notice.severity.value}, banner on {placement})"
            f"\nSubject: {mail.subject}\nBanner: {mail.banner}\n\n{body}"
        )
    return "\n\n".join(parts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locale", default="en")
    parser.add_argument("--html", action="store_true")
    args = parser.parse_args()
    print(render(args.locale, args.html))
