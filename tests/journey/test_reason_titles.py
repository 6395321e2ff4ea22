"""Gate reasons name what they are about as people know it, in English and in Traditional Chinese: people and
departments by their names, drafting groups by their department or members, meeting kinds, outcomes, modules,
decisions, levels of support and organization fields by their titles. The keys and ids stay in the evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from okr_rollout.journey import gates
from okr_rollout.journey.facts import DepartmentFacts, EngagementFacts, PersonFacts
from okr_rollout.playbooks import kinds
from okr_rollout.texts import LocalizedText
from tests.journey.factories import (
    NOW,
    TODAY,
    appointment,
    ceo,
    facts,
    group,
    meeting,
    okr,
    quarter,
)

Q1 = quarter(1, TODAY - timedelta(days=35), TODAY + timedelta(days=55), label="Q1 2026")
SALES = DepartmentFacts(id=10, name="Sales", is_pilot=True)
SUPPORT = DepartmentFacts(id=11, name="Support", is_pilot=True)
ANN = PersonFacts(id=101, name="Ann Wu", department_ids=frozenset({10}))
BO = PersonFacts(id=102, name="Bo Lin", department_ids=frozenset({10}))
CY = PersonFacts(id=103, name="Cy Chen", department_ids=frozenset({11}))
TEAM = {"departments": [SALES, SUPPORT], "people": [ANN, BO, CY]}


def _said(kind: str, f: EngagementFacts, params: kinds.KindParams) -> tuple[str, str]:
    result = gates.check(kind, f, params)
    assert not result.passed
    return result.reason.en, result.reason.zh_tw


CASES: list[tuple[str, EngagementFacts, kinds.KindParams, LocalizedText]] = [
    ("meeting_outcomes",
     facts(meetings=[meeting(1, "executive", NOW - timedelta(days=2), outcomes=["ceo_support"])]),
     kinds.MeetingOutcomes(meeting_kind="executive", outcomes=["ceo_support", "okrs_introduced", "expectations_set"]),
     LocalizedText("The executive meeting still lacks these outcomes: OKRs introduced to GMs, VPs and the C-suite and "
                   "expectations set.",
                   "初步高管會議尚缺以下成果:已向 GMs、VPs 及 C-suite 高層介紹 OKRs、已設立期望。")),
    ("ceo_support", facts(ceo_support=[ceo("partial", TODAY - timedelta(days=3))]),
     kinds.CeoSupport(min_level="full", max_age_days=90),
     LocalizedText("The CEO's latest statement gives partial support; full support is needed.",
                   "CEO 最近表態為「部分支持」;需要「全力支持」。")),
    ("organization_foundations", facts(),
     kinds.OrganizationFoundations(fields=["vision_5y", "strategies"]),
     LocalizedText("Still to record at the kickoff: the vision in 5 years and the strategies.",
                   "啟動會議仍需記錄:5 年願景、策略。")),
    ("quarter_planned", facts(quarters=[Q1], okrs=[okr(1, 1, department_id=10)], **TEAM),
     kinds.QuarterPlanned(quarter=1, small_company_headcount=6),
     LocalizedText("No OKR for Q1 2026 yet in the pilot department Support.",
                   "試點部門「Support」尚無 Q1 2026 的 OKR。")),
    ("pilot_members_own_okrs", facts(quarters=[Q1], okrs=[okr(1, 1, owner_id=101)], **TEAM),
     kinds.PilotMembersOwnOkrs(quarter=1, small_company_headcount=6),
     LocalizedText("1 of 3 pilot members own an OKR for Q1 2026; still without one: Bo Lin and Cy Chen.",
                   "3 位試點成員中有 1 位負責 Q1 2026 的 OKR;尚無 OKR:Bo Lin、Cy Chen。")),
    ("meeting_cadence", facts(quarters=[Q1], **TEAM),
     kinds.MeetingCadence(quarter=1, meeting_kind="one_on_one", per="person", interval_days=14, min_rate=0.8,
                          small_company_headcount=6),
     LocalizedText("The 1:1 meeting every 14 days is behind for Ann Wu, Bo Lin and Cy Chen (2 expected each).",
                   "每 14 天一次的一對一會議落後:Ann Wu、Bo Lin、Cy Chen(每個應有 2 次)。")),
    ("okr_decisions", facts(quarters=[Q1], okrs=[okr(1, 1, score=0.7)]),
     kinds.OkrDecisions(quarter=1, decisions=["continue", "abandon", "complete"]),
     LocalizedText("0 of 1 OKRs of Q1 2026 have a decision (continue / abandon / mark complete).",
                   "Q1 2026 的 1 個 OKR 中有 0 個已決定(繼續 / 放棄 / 標記為完成)。")),
    ("drafting_groups",
     facts(drafting_groups=[group(70, [101, 102], TODAY - timedelta(days=3), department_id=10)], **TEAM),
     kinds.DraftingGroups(min_size=3, max_size=5, small_company_headcount=6),
     LocalizedText("Drafting groups: the Sales group is outside 3–5 people; 1 pilot member(s) are in no group.",
                   "OKR 制定小組:「Sales」小組的人數不在 3–5 人之間;1 位試點成員未加入任何小組。")),
    ("drafting_duration",
     facts(drafting_groups=[group(71, [101, 102, 103], TODAY - timedelta(days=4))], **TEAM),
     kinds.DraftingDuration(min_weeks=2, max_weeks=3),
     LocalizedText("Drafting is still under way (4 days so far; the group of Ann Wu, Bo Lin and Cy Chen has not "
                   "finished).",
                   "OKR 制定仍在進行中(已 4 天;Ann Wu、Bo Lin、Cy Chen 的小組尚未完成)。")),
    ("internal_coaches", facts(appointments=[appointment(103, "internal_coach")], **TEAM),
     kinds.InternalCoaches(min_coaches=1, trained=True),
     LocalizedText("0 trained internal coach(es); at least 1 needed. Not yet trained: Cy Chen.",
                   "目前有 0 位已完成訓練的內部教練;至少需要 1 位。尚未完成訓練:Cy Chen。")),
    ("okr_master", facts(appointments=[appointment(102, "okr_master")], **TEAM), kinds.OkrMaster(ready=True),
     LocalizedText("The OKR Master (Bo Lin) is appointed but not yet ready.",
                   "已指定 Bo Lin 為 OKR 主管,但尚未準備就緒。")),
]


@pytest.mark.parametrize(("kind", "f", "params", "expected"), CASES, ids=[case[0] for case in CASES])
def test_reasons_name_things_by_name_and_title(kind: str, f: EngagementFacts, params: kinds.KindParams,
                                               expected: LocalizedText) -> None:
    assert _said(kind, f, params) == (expected.en, expected.zh_tw)


def test_a_long_list_of_names_is_cut_short_and_counted() -> None:
    people = [PersonFacts(id=200 + n, name=f"Member {chr(65 + n)}", department_ids=frozenset({10}))
              for n in range(8)]
    f = facts(quarters=[Q1], okrs=[], departments=[SALES], people=people)
    en, zh = _said("pilot_members_own_okrs", f, kinds.PilotMembersOwnOkrs(quarter=1, small_company_headcount=6))
    assert en.endswith("still without one: Member A, Member B, Member C, Member D, Member E and 3 more.")
    assert zh.endswith("尚無 OKR:Member A、Member B、Member C、Member D、Member E 等 8 項。")
