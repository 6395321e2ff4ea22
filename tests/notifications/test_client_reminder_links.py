"""A reminder to a person of the client links straight to the form of their page it asks for; a coach's does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from okr_rollout.journey.cadences import DueReminder
from okr_rollout.notifications.messages import Context, render
from okr_rollout.texts import LocalizedText

CONTEXT = Context("Formosa Bikes", "Asia/Taipei", "https://okr.example/")


def _reminder(audience: str) -> DueReminder:
    return DueReminder(1, "weekly_check_in", "2026-01-05", "weekly", audience, datetime(2026, 1, 5, tzinfo=UTC),
                       LocalizedText("Update your key results", "請更新您的關鍵結果"))


@pytest.mark.parametrize(("audience", "section"), [("pilot_member", "key-results"), ("ceo", "support"),
                                                   ("department_lead", "meetings")])
@pytest.mark.parametrize("locale", ["en", "zh-TW"])
def test_a_reminder_to_the_client_links_to_the_form(audience: str, section: str, locale: str) -> None:
    body = render(_reminder(audience), "Kao Member", locale, CONTEXT).body
    assert f"https://okr.example/me#{section}" in body
    assert ("請在您的頁面完成" if locale == "zh-TW" else "Do it on your page") in body


def test_a_coachs_reminder_has_no_client_page_link() -> None:
    assert "/me#" not in render(_reminder("coach"), "Chen Mei-ling", "en", CONTEXT).body
