"""The panel's languages: English, German and Polish, chosen from ``Accept-Language``.

Words come from ``messages.CATALOGUE`` (English is the key); dates and money are formatted by
Babel in the reader's locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_currency

from services.panel.messages import CATALOGUE

LANGUAGES = ("en", "de", "pl")
DEFAULT_LANGUAGE = "en"


def negotiate(accept_language: str | None) -> str:
    """The first of the reader's languages the panel speaks, by their ``q`` weights."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag.strip().lower()[:2]))
    for negative_quality, _, language in sorted(weighted):
        if language in LANGUAGES and negative_quality < 0:
            return language
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    """Words, dates and money in one language; templates call it as ``_``."""

    language: str

    def __call__(self, text: str, **values: Any) -> str:
        translated = CATALOGUE.get(self.language, {}).get(text, text)
        return translated.format(**values) if values else translated

    def months(self, count: int) -> str:
        """A billing period: "1 month", "3 months"."""
        return self("{n} month" if count == 1 else "{n} months", n=count)

    def date(self, value: date | str | None) -> str:
        if value is None or value == "":
            return "—"
        parsed = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return format_date(parsed, format="medium", locale=self._locale())

    def datetime(self, value: datetime | str | None) -> str:
        if value is None or value == "":
            return "—"
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        return format_datetime(
            parsed, format="medium", tzinfo=get_timezone("UTC"), locale=self._locale()
        )

    def money(self, value: dict[str, str] | None) -> str:
        """``{"amount": "4.00", "currency": "EUR"}`` as the reader writes it: 4,00 €."""
        if not value:
            return "—"
        return format_currency(Decimal(value["amount"]), value["currency"], locale=self._locale())

    def _locale(self) -> Locale:
        try:
            return Locale.parse(self.language)
        except UnknownLocaleError:
            return Locale.parse(DEFAULT_LANGUAGE)
