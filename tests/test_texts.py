"""The one bilingual text and the one reading of Accept-Language, shared by the API, the pages and the feeds."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from okr_rollout.texts import LocalizedText, preferred_locale


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-TW,zh;q=0.9,en;q=0.8", "zh-TW"), ("en-US,en;q=0.9", "en"), ("fr-FR,zh-Hant;q=0.5", "zh-TW"),
    ("fr-FR", None), ("en;q=0.2, zh-TW;q=0.9", "zh-TW"), ("zh-TW;q=0", None), ("", None), (None, None),
    ("zh-CN", "zh-TW"), ("en;q=0.5, zh;Q=0.7", "zh-TW"), ("*", None), ("de, *;q=0.5", None), ("zh_TW", "zh-TW"),
])
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert preferred_locale(header) == expected


def test_one_text_reads_a_playbook_builds_a_reason_and_answers_the_api() -> None:
    parsed = TypeAdapter(LocalizedText).validate_python({"en": "Kickoff", "zh-TW": "啟動會議"})
    built = LocalizedText("Kickoff", "啟動會議")
    assert parsed == built
    assert built.get("zh-Hant") == "啟動會議" and built.get("en-GB") == "Kickoff"

    class Out(BaseModel):
        title: LocalizedText

    assert Out(title=built).model_dump(mode="json", by_alias=True) == {"title": {"en": "Kickoff", "zh-TW": "啟動會議"}}
    assert built.as_dict() == {"en": "Kickoff", "zh-TW": "啟動會議"}


@pytest.mark.parametrize("given", [{"en": "Kickoff"}, {"en": "", "zh-TW": "啟動"}, {"en": "a", "zh-TW": "b", "fr": "c"},
                                   {"en": 1, "zh-TW": "b"}])
def test_both_languages_are_required_and_nothing_else(given: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(LocalizedText).validate_python(given)
