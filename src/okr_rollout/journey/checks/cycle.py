"""Checks of the quarterly cycle: planning, check-ins, meetings, scoring, decisions, the next quarter."""

from __future__ import annotations

from datetime import timedelta

from okr_rollout.journey.criteria import CriterionResult, failed, gate_kind, passed, verdict
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.scoring import SCORE_TOLERANCE, check_in_coverage, elapsed_days
from okr_rollout.journey.wording import by_name, departments, people, scope
from okr_rollout.playbooks import kinds, vocabulary
from okr_rollout.texts import LocalizedText, listed


def _no_quarter(ordinal: int, facts: EngagementFacts | None = None) -> CriterionResult:
    if facts is not None and facts.scope == "wave":
        return failed(
            f"Quarter {ordinal} of the wave is not set up yet (no quarter starts on or after the day it opened).",
            f"本梯次的第 {ordinal} 季尚未建立(沒有在梯次開啟當天或之後開始的季度)。", quarter=ordinal)
    return failed(
        f"Quarter {ordinal} of the engagement is not set up yet (no dates recorded).",
        f"本專案的第 {ordinal} 季尚未建立(未記錄起訖日期)。",
        quarter=ordinal,
    )


@gate_kind("quarter_planned", kinds.QuarterPlanned, reads=("quarters", "okrs", "departments"), clocked=False)
def quarter_planned(facts: EngagementFacts, params: kinds.QuarterPlanned) -> CriterionResult:
    quarter = facts.quarter(params.quarter)
    if quarter is None:
        return _no_quarter(params.quarter, facts)
    okrs = facts.okrs_of(quarter)
    evidence: dict[str, object] = {"quarter": quarter.label, "okrs": len(okrs)}
    if facts.whole_company(params.small_company_headcount):
        return verdict(
            bool(okrs),
            (f"{len(okrs)} OKR(s) are set for {quarter.label}.", f"{quarter.label} 已設定 {len(okrs)} 個 OKR。"),
            **evidence,
        )
    pilots = facts.pilot_departments()
    covered = {okr.department_id for okr in okrs}
    without = [d.id for d in pilots if d.id not in covered]
    evidence |= {"pilot_department_ids": [d.id for d in pilots], "departments_without_okrs": without}
    who = scope(facts)
    if not pilots:
        return failed(f"No {who.en} department is chosen.", f"尚未選定{who.zh_tw}部門。", **evidence)
    lacking = listed([LocalizedText(d.en, f"「{d.zh_tw}」") for d in by_name(departments(facts, without))])
    return verdict(
        not without,
        (
            (f"No OKR for {quarter.label} yet in the {who.en} "
             f"{'department' if len(without) == 1 else 'departments'} {lacking.en}." if without
             else f"Every {who.en} department has OKRs for {quarter.label}."),
            (f"{who.zh_tw}部門{lacking.zh_tw}尚無 {quarter.label} 的 OKR。" if without
             else f"每個{who.zh_tw}部門都已設定 {quarter.label} 的 OKR。"),
        ),
        **evidence,
    )


@gate_kind("pilot_members_own_okrs", kinds.PilotMembersOwnOkrs, reads=("quarters", "okrs", "people", "departments"),
           clocked=False)
def pilot_members_own_okrs(facts: EngagementFacts, params: kinds.PilotMembersOwnOkrs) -> CriterionResult:
    quarter = facts.quarter(params.quarter)
    if quarter is None:
        return _no_quarter(params.quarter, facts)
    owners = {okr.owner_id for okr in facts.okrs_of(quarter)}
    pilot = facts.pilot_people(params.small_company_headcount)
    without = sorted(p.id for p in pilot if p.id not in owners)
    evidence = {"quarter": quarter.label, "pilot_people": len(pilot), "people_without_okr": without}
    who = scope(facts)
    if not pilot:
        return failed(f"No {who.en} members are known yet.", f"尚無{who.zh_tw}成員。", **evidence)
    lacking = listed(by_name(people(facts, without)))
    return verdict(
        not without,
        (
            f"{len(pilot) - len(without)} of {len(pilot)} {who.en} members own an OKR for {quarter.label}"
            + (f"; still without one: {lacking.en}." if without else "."),
            f"{len(pilot)} 位{who.zh_tw}成員中有 {len(pilot) - len(without)} 位負責 {quarter.label} 的 OKR"
            + (f";尚無 OKR:{lacking.zh_tw}。" if without else "。"),
        ),
        **evidence,
    )


@gate_kind("check_in_rate", kinds.CheckInRate, reads=("quarters", "okrs", "key_results", "check_ins"))
def check_in_rate(facts: EngagementFacts, params: kinds.CheckInRate) -> CriterionResult:
    quarter = facts.quarter(params.quarter)
    if quarter is None:
        return _no_quarter(params.quarter, facts)
    okr_ids = {okr.id for okr in facts.okrs_of(quarter)}
    key_result_ids = {kr.id for kr in facts.key_results if kr.okr_id in okr_ids}
    expected, done, possible = check_in_coverage(
        quarter, facts.today, params.interval_days, key_result_ids,
        ((c.key_result_id, c.week_of) for c in facts.check_ins),
    )
    rate = done / possible if possible else 0.0
    evidence = {
        "quarter": quarter.label,
        "key_results": len(key_result_ids),
        "periods_elapsed": expected,
        "check_ins_on_time": done,
        "rate": round(rate, 3),
        "required_rate": params.min_rate,
        "interval_days": params.interval_days,
    }
    if not key_result_ids:
        return failed(f"{quarter.label} has no key results to check in on.",
                      f"{quarter.label} 尚無可更新進度的關鍵結果。", **evidence)
    if expected == 0:
        return passed(f"{quarter.label} has not completed a check-in period yet.",
                      f"{quarter.label} 尚未滿一個更新週期。", **evidence)
    return verdict(
        rate >= params.min_rate,
        (
            f"Check-ins every {params.interval_days} days: {done} of {possible} ({rate:.0%}); "
            f"{params.min_rate:.0%} needed.",
            f"每 {params.interval_days} 天更新進度:{possible} 次中完成 {done} 次({rate:.0%});"
            f"需要 {params.min_rate:.0%}。",
        ),
        **evidence,
    )


@gate_kind("meeting_cadence", kinds.MeetingCadence, reads=("quarters", "meetings", "people", "departments"))
def meeting_cadence(facts: EngagementFacts, params: kinds.MeetingCadence) -> CriterionResult:
    quarter = facts.quarter(params.quarter)
    if quarter is None:
        return _no_quarter(params.quarter, facts)
    expected = elapsed_days(quarter, facts.today) // params.interval_days
    window_end = min(quarter.ends_on, facts.today)
    meetings = [
        m for m in facts.meetings
        if m.kind == params.meeting_kind and m.held and quarter.starts_on <= facts.local_date(m.held_at) <= window_end
    ]
    counts: dict[str, int] = {}
    if params.per == "person":
        for person in facts.pilot_people(params.small_company_headcount):
            # A 1:1 counts for the person, not for the lead who held it (the meeting kind's attendee rule).
            counts[str(person.id)] = sum(1 for m in meetings if m.counts_for(person.id))
    elif facts.whole_company(params.small_company_headcount):
        counts["company"] = len(meetings)
    else:
        for department in facts.pilot_departments():
            counts[str(department.id)] = sum(
                1 for m in meetings if m.department_id in (department.id, None)
            )
    behind = sorted(group for group, count in counts.items() if expected and count / expected < params.min_rate)
    evidence = {
        "quarter": quarter.label,
        "meeting_kind": params.meeting_kind,
        "per": params.per,
        "expected_each": expected,
        "held": counts,
        "behind": behind,
        "required_rate": params.min_rate,
    }
    kind = vocabulary.meeting_kind(params.meeting_kind)
    if not counts:
        whom = "members" if params.per == "person" else "departments"
        who = scope(facts)
        return failed(f"No {who.en} {whom} to hold the {kind.en} with.",
                      f"沒有可舉行{kind.zh_tw}的{who.zh_tw}對象。", **evidence)
    if params.per == "person":
        lagging = listed(by_name(people(facts, (int(group) for group in behind))))
    elif "company" in counts:
        lagging = LocalizedText("the whole company", "全公司")
    else:
        lagging = listed(by_name(departments(facts, (int(group) for group in behind))))
    return verdict(
        not behind,
        (
            (f"The {kind.en} every {params.interval_days} days is behind for {lagging.en} "
             f"({expected} expected each)." if behind
             else f"The {kind.en} is held every {params.interval_days} days as planned."),
            (f"每 {params.interval_days} 天一次的{kind.zh_tw}落後:{lagging.zh_tw}"
             f"(每個應有 {expected} 次)。" if behind
             else f"{kind.zh_tw}按每 {params.interval_days} 天一次如期舉行。"),
        ),
        **evidence,
    )


@gate_kind("quarter_ended", kinds.QuarterEnded, reads=("quarters",))
def quarter_ended(facts: EngagementFacts, params: kinds.QuarterEnded) -> CriterionResult:
    quarter = facts.quarter(params.quarter)
    if quarter is None:
        return _no_quarter(params.quarter, facts)
    days_left = (quarter.ends_on - facts.today).days
    return verdict(
        days_left < 0,
        (
            (f"{quarter.label} ended on {quarter.ends_on.isoformat()}." if days_left < 0
             else f"{quarter.label} runs until {quarter.ends_on.isoformat()} ({days_left + 1} days left)."),
            (f"{quarter.label} 已於 {quarter.ends_on.isoformat()} 結束。" if days_left < 0
             else f"{quarter.label} 至 {quarter.ends_on.isoformat()} 結束(尚餘 {days_left + 1} 天)。"),
        ),
        quarter=quarter.label,
        ends_on=quarter.ends_on.isoformat(),
    )


@gate_kind("quarter_scored", kinds.QuarterScored, reads=("quarters", "okrs"), clocked=False)
def quarter_scored(facts: EngagementFacts, params: kinds.QuarterScored) -> CriterionResult:
    quarter = facts.quarter(params.quarter)
    if quarter is None:
        return _no_quarter(params.quarter, facts)
    okrs = facts.okrs_of(quarter)
    unscored = sorted(okr.id for okr in okrs if okr.score is None)
    off_scale = sorted(
        okr.id for okr in okrs
        if okr.score is not None and not any(abs(okr.score - s) < SCORE_TOLERANCE for s in params.scale)
    )
    evidence = {
        "quarter": quarter.label, "okrs": len(okrs), "unscored": unscored,
        "off_scale": off_scale, "scale": list(params.scale),
    }
    if not okrs:
        return failed(f"{quarter.label} has no OKRs to score.", f"{quarter.label} 沒有可評分的 OKR。", **evidence)
    ok = not unscored and not off_scale
    return verdict(
        ok,
        (
            (f"All {len(okrs)} OKRs of {quarter.label} are scored." if ok
             else f"{quarter.label}: {len(unscored)} OKR(s) unscored, {len(off_scale)} off the scale "
                  f"{' / '.join(f'{s:.1f}' for s in params.scale)}."),
            (f"{quarter.label} 的 {len(okrs)} 個 OKR 皆已評分。" if ok
             else f"{quarter.label}:{len(unscored)} 個 OKR 未評分,{len(off_scale)} 個不在評分刻度 "
                  f"{' / '.join(f'{s:.1f}' for s in params.scale)} 上。"),
        ),
        **evidence,
    )


@gate_kind("okr_decisions", kinds.OkrDecisions, reads=("quarters", "okrs"), clocked=False)
def okr_decisions(facts: EngagementFacts, params: kinds.OkrDecisions) -> CriterionResult:
    quarter = facts.quarter(params.quarter)
    if quarter is None:
        return _no_quarter(params.quarter, facts)
    okrs = facts.okrs_of(quarter)
    undecided = sorted(okr.id for okr in okrs if okr.decision not in params.decisions)
    evidence = {"quarter": quarter.label, "okrs": len(okrs), "undecided": undecided,
                "decisions": list(params.decisions)}
    if not okrs:
        return failed(f"{quarter.label} has no OKRs to decide on.", f"{quarter.label} 沒有需要決定的 OKR。",
                      **evidence)
    choices = [vocabulary.decision(d) for d in params.decisions]
    return verdict(
        not undecided,
        (
            f"{len(okrs) - len(undecided)} of {len(okrs)} OKRs of {quarter.label} have a decision "
            f"({' / '.join(c.en for c in choices)}).",
            f"{quarter.label} 的 {len(okrs)} 個 OKR 中有 {len(okrs) - len(undecided)} 個已決定"
            f"({' / '.join(c.zh_tw for c in choices)})。",
        ),
        **evidence,
    )


@gate_kind("next_quarter_deadline", kinds.NextQuarterDeadline, reads=("quarters", "okrs"))
def next_quarter_deadline(facts: EngagementFacts, params: kinds.NextQuarterDeadline) -> CriterionResult:
    quarter = facts.quarter(params.quarter)
    if quarter is None:
        return _no_quarter(params.quarter, facts)
    deadline = quarter.ends_on + timedelta(days=params.max_days)
    following = facts.quarter(params.quarter + 1)
    okrs = facts.okrs_of(following) if following else ()
    evidence: dict[str, object] = {
        "quarter": quarter.label, "deadline": deadline.isoformat(), "max_days": params.max_days,
    }
    if not okrs:
        days_left = (deadline - facts.today).days
        evidence["days_left"] = days_left
        return failed(
            (f"The next quarter is not prepared; {days_left} day(s) left until {deadline.isoformat()}."
             if days_left >= 0 else
             f"The next quarter is not prepared and the deadline {deadline.isoformat()} passed "
             f"{-days_left} day(s) ago."),
            (f"下一季尚未準備;距離期限 {deadline.isoformat()} 還有 {days_left} 天。" if days_left >= 0 else
             f"下一季尚未準備,已超過期限 {deadline.isoformat()} {-days_left} 天。"),
            **evidence,
        )
    # Judged on the days the OKRs were prepared as recorded, not on when they were entered here: a client taken
    # on mid-journey enters its past quarters late without having prepared them late.
    prepared_on = max((okr.prepared or facts.today) for okr in okrs)
    late_days = (prepared_on - deadline).days
    evidence |= {"prepared_on": prepared_on.isoformat(), "days_late": max(0, late_days)}
    return verdict(
        late_days <= 0,
        (
            (f"The next quarter was prepared on {prepared_on.isoformat()}, within {params.max_days} days."
             if late_days <= 0 else
             f"The next quarter was prepared {late_days} day(s) after the {params.max_days}-day limit."),
            (f"下一季已於 {prepared_on.isoformat()} 準備完成,在 {params.max_days} 天內。" if late_days <= 0 else
             f"下一季的準備比 {params.max_days} 天的期限晚了 {late_days} 天。"),
        ),
        **evidence,
    )
