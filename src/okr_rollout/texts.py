"""The one bilingual text and the one reading of a language preference.

Every text a person reads exists in English and Traditional Chinese (zh-TW): playbook titles, gate reasons,
migration plans, API titles. ``LocalizedText`` is that pair wherever it appears: parsed from a playbook
(``zh-TW`` key, both required), built by a gate check (``LocalizedText(en, zh_tw)``), returned by the API
(``{"en": …, "zh-TW": …}``). Pure: imported by the engine and the definition language alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import ConfigDict, Field, StrictStr
from pydantic.dataclasses import dataclass

SUPPORTED_LOCALES = ("en", "zh-TW")
DEFAULT_LOCALE = "en"


@dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid", populate_by_name=True))
class LocalizedText:
    """A text in English and in Traditional Chinese; both are required."""

    en: Annotated[StrictStr, Field(min_length=1)]
    zh_tw: Annotated[StrictStr, Field(min_length=1, alias="zh-TW")]

    def get(self, locale: str) -> str:
        return self.zh_tw if locale.lower().startswith("zh") else self.en

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh-TW": self.zh_tw}


def supported_locale(tag: str | None) -> str | None:
    """``tag`` as one of the supported languages, or None. Any Chinese tag (``zh``, ``zh-Hant``, ``zh_CN``) reads
    zh-TW: a reader of Simplified Chinese is better served by Traditional Chinese than by English."""
    if not tag:
        return None
    lowered = tag.strip().replace("_", "-").lower()
    if lowered.startswith("zh"):
        return "zh-TW"
    if lowered == "en" or lowered.startswith("en-"):
        return "en"
    return None


def preferred_locale(accept_language: str | None) -> str | None:
    """The first supported language of an Accept-Language header, by quality then order (RFC 9110 §12.5.4);
    None when it names none (the caller then falls back: a person's locale, else English)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, index, tag.strip()))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return None
        found = supported_locale(tag)
        if found:
            return found
    return None


# A text names at most this many people, groups or items and counts the rest, so that a gate reason over a large
# pilot stays one readable line; the evidence holds every id.
NAMES_SHOWN = 5


def listed(items: Sequence[LocalizedText], *, limit: int = NAMES_SHOWN) -> LocalizedText:
    """``A, B and C`` / ``A、B、C``; beyond ``limit`` items,
    ``A, B, C, D, E and 3 more`` / ``A、B、C、D、E 等 8 項``."""
    shown = list(items[:limit])
    rest = len(items) - len(shown)
    if not shown:
        return LocalizedText("none", "無")
    en_parts = [item.en for item in shown]
    if rest:
        en = ", ".join(en_parts) + f" and {rest} more"
        zh = "、".join(item.zh_tw for item in shown) + f" 等 {len(items)} 項"
    else:
        en = en_parts[0] if len(en_parts) == 1 else ", ".join(en_parts[:-1]) + " and " + en_parts[-1]
        zh = "、".join(item.zh_tw for item in shown)
    return LocalizedText(en, zh)
