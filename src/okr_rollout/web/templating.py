"""Jinja2 for the pages and documents: autoescape on, Jinja2's i18n extension, one environment per language.

An environment per language keeps the installed gettext callables fixed (no per-request state shared between
threads); each also carries that language's date and number filters.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from okr_rollout.web.i18n import NAMES, SUPPORTED, Formats, translations

TEMPLATE_DIR = Path(__file__).parent / "templates"
EXTENSIONS = ["jinja2.ext.i18n"]


class Localizable(Protocol):
    def get(self, locale: str) -> str: ...


def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        extensions=EXTENSIONS,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    formats = Formats(locale)

    def localized(value: Localizable | None) -> str:
        return "" if value is None else value.get(locale)

    def pick(en: str, zh_tw: str) -> str:
        return zh_tw if locale == "zh-TW" else en

    env.filters.update(date=formats.date, datetime=formats.datetime, number=formats.number,
                       percent=formats.percent, loc=localized)
    env.globals.update(locale=locale, languages=NAMES, pick=pick)
    return env


@cache
def environments() -> dict[str, Environment]:
    return {locale: environment(locale) for locale in SUPPORTED}


def render(template: str, locale: str, **context: Any) -> str:
    return environments()[locale].get_template(template).render(**context)
