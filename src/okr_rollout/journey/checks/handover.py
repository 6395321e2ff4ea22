"""Checks of the hand-over: internal coaches, the OKR Master, and the pilot's success."""

from __future__ import annotations

from okr_rollout.journey.criteria import CriterionResult, failed, gate_kind, passed, verdict
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.scoring import SCORE_TOLERANCE
from okr_rollout.journey.wording import by_name, names, people
from okr_rollout.playbooks import kinds
from okr_rollout.texts import listed


@gate_kind("internal_coaches", kinds.InternalCoaches, reads=("appointments", "people"), clocked=False)
def internal_coaches(facts: EngagementFacts, params: kinds.InternalCoaches) -> CriterionResult:
    appointed = {a.person_id for a in facts.appointments if a.role == "internal_coach"}
    trained = {a.person_id for a in facts.appointments if a.role == "internal_coach" and a.trained}
    counted = trained if params.trained else appointed
    evidence = {
        "appointed": sorted(appointed),
        "trained": sorted(trained),
        "untrained": sorted(appointed - trained),
        "required": params.min_coaches,
        "must_be_trained": params.trained,
    }
    what_en = "trained internal coach(es)" if params.trained else "internal coach(es) appointed"
    what_zh = "位已完成訓練的內部教練" if params.trained else "位已指定的內部教練"
    untrained = listed(by_name(people(facts, appointed - trained)))
    still_en = f" Not yet trained: {untrained.en}." if params.trained and appointed - trained else ""
    still_zh = f"尚未完成訓練:{untrained.zh_tw}。" if params.trained and appointed - trained else ""
    return verdict(
        len(counted) >= params.min_coaches,
        (
            f"{len(counted)} {what_en}; at least {params.min_coaches} needed.{still_en}",
            f"目前有 {len(counted)} {what_zh};至少需要 {params.min_coaches} 位。{still_zh}",
        ),
        **evidence,
    )


@gate_kind("okr_master", kinds.OkrMaster, reads=("appointments", "people"), clocked=False)
def okr_master(facts: EngagementFacts, params: kinds.OkrMaster) -> CriterionResult:
    masters = [a for a in facts.appointments if a.role == "okr_master"]
    ready = [a for a in masters if a.ready]
    evidence = {"appointed": sorted(a.person_id for a in masters), "ready": sorted(a.person_id for a in ready)}
    if not masters:
        return failed("No OKR Master is appointed.", "尚未指定 OKR 主管(OKR Master)。", **evidence)
    who = listed(by_name(people(facts, {a.person_id for a in (ready if params.ready else masters)} or
                             {a.person_id for a in masters})))
    if params.ready and not ready:
        return failed(f"The OKR Master ({who.en}) is appointed but not yet ready.",
                      f"已指定 {who.zh_tw} 為 OKR 主管,但尚未準備就緒。", **evidence)
    return passed(
        f"The OKR Master, {who.en}, is ready." if params.ready else f"An OKR Master is appointed: {who.en}.",
        f"OKR 主管 {who.zh_tw} 已準備就緒。" if params.ready else f"已指定 {who.zh_tw} 為 OKR 主管。",
        **evidence,
    )


@gate_kind("pilot_completed", kinds.PilotCompleted, reads=("quarters", "okrs"))
def pilot_completed(facts: EngagementFacts, params: kinds.PilotCompleted) -> CriterionResult:
    quarters = [facts.quarter(n) for n in range(1, params.quarters + 1)]
    present = [q for q in quarters if q is not None]
    evidence: dict[str, object] = {
        "quarters_required": params.quarters,
        "quarters_recorded": len(present),
        "min_average_score": params.min_average_score,
    }
    if len(present) < params.quarters:
        return failed(
            f"The pilot runs {params.quarters} quarters; {len(present)} recorded so far.",
            f"試點需進行 {params.quarters} 季;目前已記錄 {len(present)} 季。",
            **evidence,
        )
    running = [q.label for q in present if q.ends_on >= facts.today]
    okrs = [okr for q in present for okr in facts.okrs_of(q)]
    unscored = sorted(okr.id for okr in okrs if okr.score is None)
    undecided = sorted(okr.id for okr in okrs if okr.decision not in params.decisions)
    scores = [okr.score for okr in okrs if okr.score is not None]
    average = sum(scores) / len(scores) if scores else 0.0
    evidence |= {
        "quarters_running": running,
        "okrs": len(okrs),
        "unscored": unscored,
        "undecided": undecided,
        "average_score": round(average, 3),
    }
    gaps_en, gaps_zh = [], []
    if running:
        still_running = names(running)
        gaps_en.append(f"{still_running.en} {'has' if len(running) == 1 else 'have'} not ended")
        gaps_zh.append(f"{still_running.zh_tw} 尚未結束")
    if not okrs:
        gaps_en.append("no OKRs recorded")
        gaps_zh.append("沒有任何 OKR 記錄")
    if unscored or undecided:
        gaps_en.append(f"{len(unscored)} OKR(s) unscored and {len(undecided)} without a decision")
        gaps_zh.append(f"{len(unscored)} 個 OKR 未評分、{len(undecided)} 個未決定")
    if scores and average < params.min_average_score - SCORE_TOLERANCE:
        gaps_en.append(f"average score {average:.2f} is below {params.min_average_score:.2f}")
        gaps_zh.append(f"平均分數 {average:.2f} 低於 {params.min_average_score:.2f}")
    if gaps_en:
        return failed("The pilot is not completed successfully: " + "; ".join(gaps_en) + ".",
                      "試點尚未成功完成:" + ";".join(gaps_zh) + "。", **evidence)
    return passed(
        f"The pilot ran {params.quarters} quarters, every OKR scored and decided, average {average:.2f}.",
        f"試點已進行 {params.quarters} 季,所有 OKR 皆已評分與決定,平均分數 {average:.2f}。",
        **evidence,
    )


@gate_kind("trained_internally", kinds.TrainedInternally, reads=("training_sessions", "coach_ids", "people"))
def trained_internally(facts: EngagementFacts, params: kinds.TrainedInternally) -> CriterionResult:
    sessions = [s for s in facts.training_sessions if s.held and s.held_on <= facts.today]
    by_coach = sorted(s.id for s in sessions if s.trainer_id is not None and s.trainer_id in facts.coach_ids)
    unnamed = sorted(s.id for s in sessions if s.trainer_id is None)
    trainers = {s.trainer_id for s in sessions if s.trainer_id is not None and s.trainer_id not in facts.coach_ids}
    evidence = {"required": params.required, "sessions": len(sessions), "by_external_coach": by_coach,
                "without_trainer": unnamed, "internal_trainer_ids": sorted(trainers)}
    if not params.required:
        return passed("This playbook lets the external coach give the training.",
                      "此手冊允許由外部教練授課。", **evidence)
    if not sessions:
        return failed("No training session has been held yet.", "尚未舉行任何培訓課程。", **evidence)
    gaps_en, gaps_zh = [], []
    if by_coach:
        gaps_en.append(f"the external coach gave {len(by_coach)} of {len(sessions)} session(s)")
        gaps_zh.append(f"{len(sessions)} 堂課中有 {len(by_coach)} 堂由外部教練授課")
    if unnamed:
        gaps_en.append(f"{len(unnamed)} session(s) name no trainer")
        gaps_zh.append(f"{len(unnamed)} 堂課未登記授課者")
    if gaps_en:
        return failed("The internal coaches do not carry the training yet: " + "; ".join(gaps_en) + ".",
                      "內部教練尚未接手培訓:" + ";".join(gaps_zh) + "。", **evidence)
    who = listed(by_name(people(facts, trainers)))
    return passed(f"Every session was given by the organization's own people: {who.en}.",
                  f"每堂課皆由組織內部人員授課:{who.zh_tw}。", **evidence)
