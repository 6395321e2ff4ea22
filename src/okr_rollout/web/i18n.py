"""Languages of the pages: Babel catalogs (compiled when loaded) and locale-aware formats (the negotiation is
``okr_rollout.texts.preferred_locale``, shared with the API and the feeds).

The catalogs are ``locale/<babel id>/LC_MESSAGES/messages.po``; they are compiled in memory when first used, so
no binary .mo file is kept in the repository. English is the source language and needs no catalog.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from okr_rollout.texts import DEFAULT_LOCALE, SUPPORTED_LOCALES

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = SUPPORTED_LOCALES
DEFAULT = DEFAULT_LOCALE
# The page's language tag -> Babel's locale id (formats) and catalog directory.
BABEL_IDS = {"en": "en", "zh-TW": "zh_Hant_TW"}
CATALOG_DIRS = {"zh-TW": "zh_TW"}
NAMES = {"en": "English", "zh-TW": "繁體中文"}


@cache
def translations(locale: str) -> NullTranslations:
    directory = CATALOG_DIRS.get(locale)
    if directory is None:
        return NullTranslations()
    path = LOCALE_DIR / directory / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=directory)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


def _local(value: datetime, timezone: str | None) -> datetime:
    """``value`` in ``timezone``; a moment stored before the API bounded dates (year 1 is year 0 in Los Angeles)
    has no local time there, and is shown as it was stored rather than breaking the page."""
    if not timezone:
        return value
    try:
        return value.astimezone(ZoneInfo(timezone))
    except OverflowError:
        return value


class Formats:
    """Dates, times and numbers as a reader of ``locale`` expects them."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.babel = Locale.parse(BABEL_IDS[locale])

    def date(self, value: date | datetime | None, timezone: str | None = None, format: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = _local(value, timezone).date()
        return format_date(value, format=format, locale=self.babel)

    def datetime(self, value: datetime | None, timezone: str | None = None, format: str = "medium") -> str:
        if value is None:
            return ""
        local = _local(value, timezone or "UTC")
        return format_datetime(local, format=format, tzinfo=local.tzinfo, locale=self.babel)

    def number(self, value: float | int | None, digits: int = 1) -> str:
        if value is None:
            return ""
        return format_decimal(value, format=f"#,##0.{'#' * digits}" if digits else "#,##0", locale=self.babel)

    def percent(self, value: float | None) -> str:
        if value is None:
            return ""
        return format_percent(value, locale=self.babel)
