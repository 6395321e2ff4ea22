"""Checks of the set-up stages: coach, executives, kickoff, pilot choice, training, drafting."""

from __future__ import annotations

from datetime import timedelta

from okr_rollout.journey.criteria import CriterionResult, failed, gate_kind, passed, verdict
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.wording import by_name, group_name, scope
from okr_rollout.playbooks import kinds, vocabulary
from okr_rollout.playbooks.kinds import SUPPORT_LEVELS
from okr_rollout.texts import LocalizedText, listed


@gate_kind("coach_assigned", kinds.CoachAssigned, reads=("coach_ids",), clocked=False)
def coach_assigned(facts: EngagementFacts, params: kinds.CoachAssigned) -> CriterionResult:
    count = len(facts.coach_ids)
    return verdict(
        count >= params.min_coaches,
        (
            f"{count} OKR coach(es) assigned; at least {params.min_coaches} needed.",
            f"已指派 {count} 位 OKR 教練;至少需要 {params.min_coaches} 位。",
        ),
        coaches=count,
        required=params.min_coaches,
        coach_ids=sorted(facts.coach_ids),
    )


@gate_kind("ceo_support", kinds.CeoSupport, reads=("ceo_support",))
def ceo_support(facts: EngagementFacts, params: kinds.CeoSupport) -> CriterionResult:
    required_rank = SUPPORT_LEVELS.index(params.min_level)
    if not facts.ceo_support:
        return failed(
            "No statement of CEO support is recorded.",
            "尚未記錄 CEO 的支持聲明。",
            required_level=params.min_level,
            max_age_days=params.max_age_days,
        )
    stated = [statement for statement in facts.ceo_support if statement.stated_on <= facts.today]
    if not stated:
        return failed(
            "No statement of CEO support is dated on or before today.",
            "沒有今天或之前日期的 CEO 支持聲明。",
            required_level=params.min_level,
            max_age_days=params.max_age_days,
        )
    latest = max(stated, key=lambda statement: (statement.stated_on, statement.recorded))
    age_days = (facts.today - latest.stated_on).days
    evidence = {
        "level": latest.level,
        "required_level": params.min_level,
        "stated_on": latest.stated_on.isoformat(),
        "age_days": age_days,
        "max_age_days": params.max_age_days,
    }
    level, required = vocabulary.support_level(latest.level), vocabulary.support_level(params.min_level)
    if SUPPORT_LEVELS.index(latest.level) < required_rank:
        return failed(
            f"The CEO's latest statement gives {level.en}; {required.en} is needed.",
            f"CEO 最近表態為「{level.zh_tw}」;需要「{required.zh_tw}」。",
            **evidence,
        )
    if age_days > params.max_age_days:
        return failed(
            f"CEO support was last confirmed {age_days} days ago; it counts as faded after "
            f"{params.max_age_days} days. Confirm it again.",
            f"CEO 的支持已是 {age_days} 天前確認的;超過 {params.max_age_days} 天即視為淡化,請再次確認。",
            **evidence,
        )
    return passed(
        f"The CEO's {level.en} was confirmed {age_days} days ago.",
        f"CEO 的支持(「{level.zh_tw}」)於 {age_days} 天前確認。",
        **evidence,
    )


@gate_kind("meeting_outcomes", kinds.MeetingOutcomes, reads=("meetings",))
def meeting_outcomes(facts: EngagementFacts, params: kinds.MeetingOutcomes) -> CriterionResult:
    meetings = [m for m in facts.meetings if m.kind == params.meeting_kind and m.held and m.held_at <= facts.now]
    recorded = set().union(*(m.outcomes for m in meetings)) if meetings else set()
    missing = [outcome for outcome in params.outcomes if outcome not in recorded]
    evidence = {
        "meeting_kind": params.meeting_kind,
        "meeting_ids": sorted(m.id for m in meetings),
        "outcomes_recorded": sorted(recorded & set(params.outcomes)),
        "outcomes_missing": missing,
    }
    kind = vocabulary.meeting_kind(params.meeting_kind)
    if not meetings:
        return failed(
            f"No {kind.en} has been held yet.",
            f"尚未舉行{kind.zh_tw}。",
            **evidence,
        )
    if missing:
        lacking = listed([vocabulary.outcome(outcome) for outcome in missing], limit=len(missing))
        return failed(
            f"The {kind.en} still lacks these outcomes: {lacking.en}.",
            f"{kind.zh_tw}尚缺以下成果:{lacking.zh_tw}。",
            **evidence,
        )
    return passed(
        f"The {kind.en} recorded all {len(params.outcomes)} outcomes.",
        f"{kind.zh_tw}已記錄全部 {len(params.outcomes)} 項成果。",
        **evidence,
    )


@gate_kind("organization_foundations", kinds.OrganizationFoundations, reads=(), clocked=False)
def organization_foundations(
    facts: EngagementFacts, params: kinds.OrganizationFoundations
) -> CriterionResult:
    organization = facts.organization
    present = {
        "mission": bool((organization.mission or "").strip()),
        "vision_1y": bool((organization.vision_1y or "").strip()),
        "vision_5y": bool((organization.vision_5y or "").strip()),
        "vision_10y": bool((organization.vision_10y or "").strip()),
        "strategies": any(s.strip() for s in organization.strategies),
    }
    missing = [name for name in params.fields if not present[name]]
    lacking = listed([vocabulary.organization_field(name) for name in missing], limit=len(missing))
    return verdict(
        not missing,
        (
            (f"Still to record at the kickoff: {lacking.en}." if missing
             else "Mission, vision and strategies are recorded."),
            (f"啟動會議仍需記錄:{lacking.zh_tw}。" if missing else "使命、願景與策略皆已記錄。"),
        ),
        required=list(params.fields),
        missing=missing,
    )


@gate_kind("pilot_departments", kinds.PilotDepartments, reads=("departments",), clocked=False)
def pilot_departments(facts: EngagementFacts, params: kinds.PilotDepartments) -> CriterionResult:
    headcount = facts.organization.headcount
    pilots = facts.pilot_departments()
    evidence = {
        "headcount": headcount,
        "small_company_headcount": params.small_company_headcount,
        "pilot_department_ids": [d.id for d in pilots],
        "min": params.min_departments,
        "max": params.max_departments,
    }
    if facts.whole_company(params.small_company_headcount):
        return passed(
            f"With {headcount} people (at most {params.small_company_headcount}), the whole company "
            "takes part; no pilot needs choosing.",
            f"公司共 {headcount} 人(不超過 {params.small_company_headcount} 人),全公司一起導入,無須選擇試點部門。",
            **evidence,
        )
    count = len(pilots)
    ok = params.min_departments <= count <= params.max_departments
    return verdict(
        ok,
        (
            f"{count} pilot department(s) chosen; {params.min_departments} to {params.max_departments} "
            "are needed.",
            f"已選定 {count} 個試點部門;需要 {params.min_departments} 至 {params.max_departments} 個。",
        ),
        **evidence,
    )


@gate_kind("headcount_at_most", kinds.HeadcountAtMost, reads=(), clocked=False)
def headcount_at_most(facts: EngagementFacts, params: kinds.HeadcountAtMost) -> CriterionResult:
    headcount = facts.organization.headcount
    return verdict(
        headcount <= params.max_headcount,
        (
            f"Headcount is {headcount}; this playbook is for companies of at most {params.max_headcount}.",
            f"員工人數為 {headcount};此手冊適用於不超過 {params.max_headcount} 人的公司。",
        ),
        headcount=headcount,
        max_headcount=params.max_headcount,
    )


@gate_kind("training_completed", kinds.TrainingCompleted, reads=("training_sessions", "people", "departments"))
def training_completed(facts: EngagementFacts, params: kinds.TrainingCompleted) -> CriterionResult:
    sessions = [s for s in facts.training_sessions if s.held and s.held_on <= facts.today]
    hours = round(sum(s.hours for s in sessions), 2)
    covered = set().union(*(s.modules for s in sessions if s.attendee_ids)) if sessions else set()
    missing_modules = [m for m in params.modules if m not in covered]
    pilot = facts.pilot_people(params.small_company_headcount)
    fully_trained = [
        person.id
        for person in pilot
        if all(any(m in s.modules and person.id in s.attendee_ids for s in sessions) for m in params.modules)
    ]
    share = len(fully_trained) / len(pilot) if pilot else 0.0
    evidence = {
        "hours": hours,
        "required": params.min_hours,
        "modules_missing": missing_modules,
        "pilot_people": len(pilot),
        "fully_trained": len(fully_trained),
        "attendance_share": round(share, 3),
        "required_attendance_share": params.min_attendance_share,
        "session_ids": sorted(s.id for s in sessions),
    }
    gaps_en, gaps_zh = [], []
    if hours < params.min_hours:
        gaps_en.append(f"{hours:g} of {params.min_hours:g} training hours held")
        gaps_zh.append(f"已上課 {hours:g} 小時,需要 {params.min_hours:g} 小時")
    if missing_modules:
        # Quoted: a module's title may itself hold an "and" ("Practice and coaching").
        titles = [vocabulary.module(m) for m in missing_modules]
        modules = listed([LocalizedText(f"“{t.en}”", f"「{t.zh_tw}」") for t in titles], limit=len(titles))
        gaps_en.append(f"modules not yet covered with attendance: {modules.en}")
        gaps_zh.append(f"尚未有人出席的單元:{modules.zh_tw}")
    who = scope(facts)
    if not pilot:
        gaps_en.append(f"no {who.en} members are known yet")
        gaps_zh.append(f"尚無{who.zh_tw}成員")
    elif share < params.min_attendance_share:
        gaps_en.append(
            f"{len(fully_trained)} of {len(pilot)} {who.en} members attended every module "
            f"({share:.0%}; {params.min_attendance_share:.0%} needed)"
        )
        gaps_zh.append(
            f"{len(pilot)} 位{who.zh_tw}成員中有 {len(fully_trained)} 位出席所有單元"
            f"({share:.0%};需要 {params.min_attendance_share:.0%})"
        )
    if gaps_en:
        return failed("Training is not complete: " + "; ".join(gaps_en) + ".",
                      "培訓尚未完成:" + ";".join(gaps_zh) + "。", **evidence)
    return passed(
        f"Training complete: {hours:g} hours, all {len(params.modules)} modules, "
        f"{len(fully_trained)} of {len(pilot)} {who.en} members attended every module.",
        f"培訓完成:共 {hours:g} 小時,涵蓋全部 {len(params.modules)} 個單元,"
        f"{len(pilot)} 位{who.zh_tw}成員中有 {len(fully_trained)} 位出席所有單元。",
        **evidence,
    )


@gate_kind("drafting_groups", kinds.DraftingGroups, reads=("drafting_groups", "people", "departments"), clocked=False)
def drafting_groups(facts: EngagementFacts, params: kinds.DraftingGroups) -> CriterionResult:
    groups = facts.drafting_groups
    pilot = facts.pilot_people(params.small_company_headcount)
    # An organization smaller than the smallest group drafts as one group of everyone.
    min_size = max(1, min(params.min_size, facts.organization.headcount))
    sizes = {group.id: len(group.member_ids) for group in groups}
    off_size = sorted(gid for gid, size in sizes.items() if not min_size <= size <= params.max_size)
    grouped = set().union(*(g.member_ids for g in groups)) if groups else set()
    ungrouped = sorted(p.id for p in pilot if p.id not in grouped)
    evidence = {
        "group_sizes": sizes,
        "min_size": min_size,
        "max_size": params.max_size,
        "groups_off_size": off_size,
        "pilot_people_without_group": ungrouped,
    }
    if not groups:
        return failed("No drafting group has been formed yet.", "尚未組成任何 OKR 制定小組。", **evidence)
    problems_en, problems_zh = [], []
    if off_size:
        named = listed(by_name(group_name(facts, g.department_id, g.member_ids) for g in groups if g.id in off_size))
        problems_en.append(f"{named.en} {'is' if len(off_size) == 1 else 'are'} outside {min_size}–{params.max_size} "
                           "people")
        problems_zh.append(f"{named.zh_tw}的人數不在 {min_size}–{params.max_size} 人之間")
    who = scope(facts)
    if ungrouped:
        problems_en.append(f"{len(ungrouped)} {who.en} member(s) are in no group")
        problems_zh.append(f"{len(ungrouped)} 位{who.zh_tw}成員未加入任何小組")
    if problems_en:
        return failed("Drafting groups: " + "; ".join(problems_en) + ".",
                      "OKR 制定小組:" + ";".join(problems_zh) + "。", **evidence)
    return passed(
        f"{len(groups)} drafting group(s) of {min_size}–{params.max_size} people cover every {who.en} member.",
        f"{len(groups)} 個 {min_size}–{params.max_size} 人的制定小組涵蓋所有{who.zh_tw}成員。",
        **evidence,
    )


@gate_kind("drafting_duration", kinds.DraftingDuration, reads=("drafting_groups", "people", "departments"))
def drafting_duration(facts: EngagementFacts, params: kinds.DraftingDuration) -> CriterionResult:
    groups = facts.drafting_groups
    evidence: dict[str, object] = {"min_weeks": params.min_weeks, "max_weeks": params.max_weeks}
    if not groups:
        return failed("Drafting has not started.", "OKR 制定尚未開始。", **evidence)
    started = min(g.started_on for g in groups)
    open_groups = sorted(g.id for g in groups if g.ended_on is None)
    evidence |= {"started_on": started.isoformat(), "open_groups": open_groups}
    if open_groups:
        elapsed = (facts.today - started).days
        evidence["days_so_far"] = elapsed
        still_open = listed(by_name(group_name(facts, g.department_id, g.member_ids)
                                    for g in groups if g.ended_on is None))
        return failed(
            f"Drafting is still under way ({elapsed} days so far; {still_open.en} "
            f"{'has' if len(open_groups) == 1 else 'have'} not finished).",
            f"OKR 制定仍在進行中(已 {elapsed} 天;{still_open.zh_tw}尚未完成)。",
            **evidence,
        )
    ended = max(g.ended_on for g in groups if g.ended_on is not None)
    days = (ended - started).days
    evidence |= {"ended_on": ended.isoformat(), "days": days}
    too_short = timedelta(days=days) < timedelta(weeks=params.min_weeks)
    too_long = timedelta(days=days) > timedelta(weeks=params.max_weeks)
    return verdict(
        not (too_short or too_long),
        (
            f"Drafting took {days} days; {params.min_weeks} to {params.max_weeks} weeks are expected.",
            f"OKR 制定歷時 {days} 天;預期為 {params.min_weeks} 至 {params.max_weeks} 週。",
        ),
        **evidence,
    )


@gate_kind("okr_software_introduced", kinds.OkrSoftwareIntroduced, reads=("okrs",), clocked=False)
def okr_software_introduced(facts: EngagementFacts, params: kinds.OkrSoftwareIntroduced) -> CriterionResult:
    software = (facts.organization.okr_software or "").strip()
    recorded_okrs = len(facts.okrs)
    if software:
        return passed(f"OKR software in use: {software}.", f"已導入 OKR 軟體:{software}。",
                      software=software, okrs_recorded=recorded_okrs)
    if recorded_okrs:
        return passed(
            f"{recorded_okrs} OKR(s) are recorded in okr-rollout, which serves as the OKR software.",
            f"已在 okr-rollout 中記錄 {recorded_okrs} 個 OKR,以此作為 OKR 軟體。",
            software="okr-rollout", okrs_recorded=recorded_okrs,
        )
    return failed(
        "No OKR software is introduced yet: name one for the organization, or record OKRs here.",
        "尚未導入 OKR 軟體:請登記所用軟體,或直接在此記錄 OKR。",
        software=None, okrs_recorded=0,
    )
