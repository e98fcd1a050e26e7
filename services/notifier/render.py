"""Email and banner texts from the Jinja2 templates in ``templates/``.

Each kind of notice has one small template per language (``<locale>/<kind>.j2``) whose blocks
are the subject, the body (paragraphs separated by a blank line), the banner text and, for an
acceptance, the ticket; ``base.txt`` and ``base.html`` lay the body out as the two parts of
the mail. Texts are rendered when the notice is recorded, so a queued mail is sent as it was
written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from services.notifier.domain import NoticeKind, Severity, pick_locale

TEMPLATES = Path(__file__).parent / "templates"

_ACCENTS = {Severity.INFO: "#2563eb", Severity.WARNING: "#d97706", Severity.CRITICAL: "#dc2626"}


@dataclass(frozen=True)
class Rendered:
    """A notice in one language: the mail's subject and parts, and the banner's text."""

    language: str
    subject: str
    text: str
    html: str
    banner: str


class Renderer:
    """Renders notices in the customer's language (English when we do not write theirs)."""

    def __init__(self, panel_url: str) -> None:
        self.panel_url = panel_url.rstrip("/")
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=False,
        )

    def notice(
        self, kind: NoticeKind, *, locale: str, severity: Severity, link: str, **values: Any
    ) -> Rendered:
        """The mail and banner of one notice; ``values`` fill the kind's template."""
        language = pick_locale(locale)
        template = self.env.get_template(f"{language}/{kind.value}.j2")
        common = self.env.get_template(f"{language}/common.j2")
        context = {**values, "link": self.panel_url + link, "locale": language}
        subject = block(template, "subject", context)
        layout = {
            "subject": subject,
            "greeting": block(common, "greeting", context),
            "signoff": block(common, "signoff", context),
            "open_panel": block(common, "open_panel", context),
            "link": context["link"],
            "locale": language,
        }
        body = block(template, "body", context)
        return Rendered(
            language=language,
            subject=subject,
            text=self.env.get_template("base.txt").render(body=body, **layout),
            html=self.env.get_template("base.html").render(
                paragraphs=body.split("\n\n"), accent=_ACCENTS[severity], **layout
            ),
            banner=block(template, "banner", context),
        )

    def staff(self, kind: str, *, url: str, **values: Any) -> Rendered:
        """A staff notice (``staff/<kind>.j2``), in English, the back office's language;
        ``url`` is where in the back office it leads."""
        template = self.env.get_template(f"staff/{kind}.j2")
        subject = block(template, "subject", values)
        layout = {
            "subject": subject,
            "greeting": "Hello,",
            "signoff": "The order platform",
            "open_panel": "Open the order",
            "link": url,
            "locale": "en",
        }
        body = block(template, "body", values)
        return Rendered(
            language="en",
            subject=subject,
            text=self.env.get_template("base.txt").render(body=body, **layout),
            html=self.env.get_template("base.html").render(
                paragraphs=body.split("\n\n"), accent=_ACCENTS[Severity.WARNING], **layout
            ),
            banner=block(template, "banner", values),
        )

    def block(self, kind: NoticeKind, name: str, *, locale: str, **values: Any) -> str:
        """One block of a kind's template, e.g. the acceptance ticket's subject."""
        template = self.env.get_template(f"{pick_locale(locale)}/{kind.value}.j2")
        return block(template, name, values)


def block(template: Template, name: str, values: dict[str, Any]) -> str:
    """The text of one block of a template, stripped of surrounding whitespace."""
    context = template.new_context(values)
    return "".join(template.blocks[name](context)).strip()
