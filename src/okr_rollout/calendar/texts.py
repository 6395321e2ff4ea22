"""Every text a person reads in a calendar feed, in English and Traditional Chinese.

Kept apart from the builder so a translator finds them in one place. Keys of playbook data (modules,
decisions) are shown as the playbook spells them: the playbook, not this file, owns their names.
"""

from __future__ import annotations

from collections.abc import Iterable

from okr_rollout.texts import DEFAULT_LOCALE, SUPPORTED_LOCALES, preferred_locale

_TEXTS: dict[str, tuple[str, str]] = {
    "calendar.engagement": ("OKR rollout: {organization}", "OKR 導入:{organization}"),
    "calendar.person": ("OKR rollout: {person} ({organization})", "OKR 導入:{person}({organization})"),
    "meeting.executive": ("Executive meeting", "高階主管會議"),
    "meeting.kickoff": ("Kickoff meeting", "啟動會議"),
    "meeting.drafting_session": ("OKR drafting session", "OKR 制定會議"),
    "meeting.weekly_team": ("Team meeting", "團隊會議"),
    "meeting.one_on_one": ("1:1 meeting", "一對一會議"),
    "meeting.quarter_review": ("Quarter review", "季度回顧會議"),
    "meeting.culture": ("OKR culture meeting", "OKR 文化會議"),
    "meeting.other": ("Meeting ({kind})", "會議({kind})"),
    "training": ("OKR training ({hours} h)", "OKR 培訓({hours} 小時)"),
    "status.planned": ("Planned; not yet held.", "已排定,尚未舉行。"),
    "status.cancelled": ("Cancelled: {title}", "已取消:{title}"),
    "drafting": ("OKR drafting window", "OKR 制定期"),
    "quarter_end": ("{quarter} ends: score your OKRs", "{quarter} 結束:為 OKR 評分"),
    "next_quarter_deadline": ("Deadline: next quarter prepared ({days} days after {quarter})",
                              "期限:完成下一季準備({quarter} 結束後 {days} 天)"),
    "series.what.weekly_team": ("team meeting", "團隊會議"),
    "series.what.one_on_one": ("1:1", "一對一會議"),
    "series.what.other": ("{kind}", "{kind}"),
    "series.one_week": ("Weekly {what}", "每週{what}"),
    "series.weeks": ("{What}, every {n} weeks", "每 {n} 週{what}"),
    "series.days": ("{What}, every {n} days", "每 {n} 天{what}"),
    "when.one_week": ("every week on {weekday}", "每週{weekday}"),
    "when.weeks": ("every {n} weeks on {weekday}", "每 {n} 週{weekday}"),
    "when.days": ("every {n} days from {first}", "自 {first} 起每 {n} 天"),
    "series.body": ("During {quarter} ({start} to {end}): {when} at {time} ({timezone}).",
                    "{quarter}({start} 至 {end})期間:{when} {time}({timezone})。"),
    "series.body_all_day": ("During {quarter} ({start} to {end}): {when}.",
                            "{quarter}({start} 至 {end})期間:{when}。"),
    "series.scope.company": ("The whole company takes part.", "全公司參與。"),
    "line.organization": ("Organization: {value}", "組織:{value}"),
    "line.department": ("Department: {value}", "部門:{value}"),
    "line.attendees": ("Attendees: {value}", "出席者:{value}"),
    "line.members": ("Members: {value}", "成員:{value}"),
    "line.outcomes": ("Outcomes: {value}", "成果:{value}"),
    "line.hours": ("Hours: {value}", "時數:{value}"),
    "line.modules": ("Modules: {value}", "單元:{value}"),
    "drafting.ended": ("Drafting ran from {start} to {end}.", "制定期間:{start} 至 {end}。"),
    "drafting.open": ("Drafting started on {start} and is still open; the playbook allows at most {weeks} weeks "
                      "(until {end}).",
                      "制定自 {start} 開始,尚未結束;手冊規定最多 {weeks} 週(至 {end})。"),
    "drafting.open_unbounded": ("Drafting started on {start} and is still open.", "制定自 {start} 開始,尚未結束。"),
    "quarter_end.body": ("{quarter} ({start} to {end}) ends today. Everyone scores their OKRs.",
                         "{quarter}({start} 至 {end})今天結束,請每個人為自己的 OKR 評分。"),
    "quarter_end.scale": ("Scale: {value}", "評分標準:{value}"),
    "quarter_end.decisions": ("Then leadership decides for each OKR: {value}", "接著由主管逐一決定每個 OKR:{value}"),
    "next_quarter.body": ("Evaluating {quarter} and preparing the next quarter must take no more than {days} days "
                          "after the quarter ends ({end}).",
                          "評估 {quarter} 並準備下一季,須在季度結束({end})後 {days} 天內完成。"),
}

_WEEKDAYS: dict[str, tuple[str, str]] = {
    "monday": ("Monday", "星期一"),
    "tuesday": ("Tuesday", "星期二"),
    "wednesday": ("Wednesday", "星期三"),
    "thursday": ("Thursday", "星期四"),
    "friday": ("Friday", "星期五"),
    "saturday": ("Saturday", "星期六"),
    "sunday": ("Sunday", "星期日"),
}


def _pick(pair: tuple[str, str], locale: str) -> str:
    return pair[1] if locale == "zh-TW" else pair[0]


def text(locale: str, key: str, **values: object) -> str:
    return _pick(_TEXTS[key], locale).format(**values)


def has(key: str) -> bool:
    return key in _TEXTS


def weekday(locale: str, name: str) -> str:
    return _pick(_WEEKDAYS[name], locale) if name in _WEEKDAYS else name


def join(locale: str, items: Iterable[str]) -> str:
    return ("、" if locale == "zh-TW" else ", ").join(items)


def negotiate_locale(lang: str | None, accept_language: str | None = None, fallback: str | None = None) -> str:
    """The feed's language: ``?lang=`` first, then Accept-Language, then ``fallback``, else English."""
    if lang in SUPPORTED_LOCALES:
        return lang
    preferred = preferred_locale(accept_language)
    if preferred is not None:
        return preferred
    return fallback if fallback is not None and fallback in SUPPORTED_LOCALES else DEFAULT_LOCALE
