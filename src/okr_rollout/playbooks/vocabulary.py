"""The titles of the keys a playbook's gates use: meeting kinds, outcomes, training modules, decisions, levels of
CEO support, organization fields and appointment roles, in English and Traditional Chinese.

A gate reason or an API error names these by their title, never by the key a program reads (``weekly_team``,
``vision_5y``): keys stay in the evidence. A key a playbook adds beyond this vocabulary is shown as words
(``team_retro`` -> "Team retro"), never with its underscores.
"""

from __future__ import annotations

from collections.abc import Mapping

from okr_rollout.texts import LocalizedText

MEETING_KINDS: Mapping[str, LocalizedText] = {
    "executive": LocalizedText("executive meeting", "初步高管會議"),
    "kickoff": LocalizedText("kickoff meeting", "啟動會議"),
    "drafting_session": LocalizedText("OKR drafting session", "OKR 制定會議"),
    "weekly_team": LocalizedText("weekly team meeting", "每週團隊會議"),
    "one_on_one": LocalizedText("1:1 meeting", "一對一會議"),
    "quarter_review": LocalizedText("quarter review meeting", "季度回顧會議"),
    "culture": LocalizedText("OKR culture meeting", "OKR 文化會議"),
}

OUTCOMES: Mapping[str, LocalizedText] = {
    "ceo_support": LocalizedText("CEO support obtained", "已獲得 CEO 的支持"),
    "okrs_introduced": LocalizedText("OKRs introduced to GMs, VPs and the C-suite",
                                     "已向 GMs、VPs 及 C-suite 高層介紹 OKRs"),
    "expectations_set": LocalizedText("expectations set", "已設立期望"),
    "foundations_agreed": LocalizedText("mission, vision and strategies agreed", "已確立使命、願景與策略"),
    "pilot_leads_committed": LocalizedText("pilot leads committed", "試點主管已承諾投入"),
}

MODULES: Mapping[str, LocalizedText] = {
    "basic_concepts": LocalizedText("Basic concepts", "基本概念"),
    "deep_principles": LocalizedText("Deep principles", "深入原則"),
    "case_studies": LocalizedText("Case studies", "案例分析"),
    "practice_and_coaching": LocalizedText("Practice and coaching", "練習與輔導"),
}

DECISIONS: Mapping[str, LocalizedText] = {
    "continue": LocalizedText("continue", "繼續"),
    "abandon": LocalizedText("abandon", "放棄"),
    "complete": LocalizedText("mark complete", "標記為完成"),
}

SUPPORT_LEVELS: Mapping[str, LocalizedText] = {
    "none": LocalizedText("no support", "不支持"),
    "partial": LocalizedText("partial support", "部分支持"),
    "full": LocalizedText("full support", "全力支持"),
}

ORGANIZATION_FIELDS: Mapping[str, LocalizedText] = {
    "mission": LocalizedText("the mission", "使命"),
    "vision_1y": LocalizedText("the vision in 1 year", "1 年願景"),
    "vision_5y": LocalizedText("the vision in 5 years", "5 年願景"),
    "vision_10y": LocalizedText("the vision in 10 years", "10 年願景"),
    "strategies": LocalizedText("the strategies", "策略"),
}

APPOINTMENT_ROLES: Mapping[str, LocalizedText] = {
    "internal_coach": LocalizedText("internal OKR coach", "內部 OKR 教練"),
    "okr_master": LocalizedText("OKR Master", "OKR 主管"),
}

# Who may lead a meeting of a kind with an attendee rule (``meeting_kinds.<kind>.attendees.led_by``).
LEADER_ROLES: Mapping[str, LocalizedText] = {
    "coach": LocalizedText("the OKR coach", "OKR 教練"),
    "ceo": LocalizedText("the CEO", "CEO"),
    "executive": LocalizedText("an executive", "高階主管"),
    "department_lead": LocalizedText("a department lead", "部門主管"),
    "internal_coach": LocalizedText("an internal OKR coach", "內部 OKR 教練"),
    "okr_master": LocalizedText("the OKR Master", "OKR 主管"),
}


def as_words(key: str) -> str:
    """A key no vocabulary names, written as words: ``team_retro`` -> ``Team retro``."""
    words = key.replace("_", " ").replace("-", " ").strip()
    return (words[:1].upper() + words[1:]) if words else key


def title(vocabulary: Mapping[str, LocalizedText], key: str) -> LocalizedText:
    """The title of ``key`` in ``vocabulary``; a key it does not know, as words in both languages."""
    known = vocabulary.get(key)
    if known is not None:
        return known
    words = as_words(key)
    return LocalizedText(words, words)


def meeting_kind(key: str) -> LocalizedText:
    return title(MEETING_KINDS, key)


def outcome(key: str) -> LocalizedText:
    return title(OUTCOMES, key)


def module(key: str) -> LocalizedText:
    return title(MODULES, key)


def decision(key: str) -> LocalizedText:
    return title(DECISIONS, key)


def support_level(key: str) -> LocalizedText:
    return title(SUPPORT_LEVELS, key)


def organization_field(key: str) -> LocalizedText:
    return title(ORGANIZATION_FIELDS, key)


def appointment_role(key: str) -> LocalizedText:
    return title(APPOINTMENT_ROLES, key)


def leader_role(key: str) -> LocalizedText:
    return title(LEADER_ROLES, key)
