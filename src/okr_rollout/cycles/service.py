"""Quarters, OKRs, key results, check-ins, scores, decisions and carry-over. Flushes only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.orm import Session

from okr_rollout.cycles import queries
from okr_rollout.cycles.closing import close_if_decided, require_open, require_open_for, require_scoring_open
from okr_rollout.cycles.schemas import (
    CheckInCreate,
    KeyResultCreate,
    KeyResultOut,
    OkrCreate,
    OkrOut,
    QuarterCreate,
    QuarterOut,
)
from okr_rollout.errors import Conflict, not_found
from okr_rollout.journey.scoring import SCORE_TOLERANCE
from okr_rollout.journey.wording import names
from okr_rollout.models import CheckIn, KeyResult, Okr, Quarter
from okr_rollout.playbooks import vocabulary
from okr_rollout.records import rules
from okr_rollout.records.context import (
    RecordContext,
    invalid,
    refuse,
    require_department,
    require_past,
    require_person,
)
from okr_rollout.records.correction_schemas import voided_fields
from okr_rollout.texts import NAMES_SHOWN, LocalizedText, listed

# --- quarters ----------------------------------------------------------------------------------------------------


def quarter_out(ctx: RecordContext, quarter: Quarter, carried: Sequence[int] = ()) -> QuarterOut:
    limit = ctx.rules.next_quarter_max_days
    return QuarterOut(
        id=quarter.id, engagement_id=quarter.engagement_id, label=quarter.label, starts_on=quarter.starts_on,
        ends_on=quarter.ends_on, next_quarter_due_on=quarter.ends_on + timedelta(days=limit) if limit else None,
        recorded_on=quarter.recorded_on, created_at=quarter.created_at, version=quarter.version,
        carried_over_okr_ids=list(carried), closed_at=quarter.closed_at, **voided_fields(quarter),
    )


def quarters_of(session: Session, engagement_id: int) -> list[Quarter]:
    return list(session.scalars(queries.quarters_of(engagement_id)))


def quarters_with_voided(session: Session, engagement_id: int) -> list[Quarter]:
    return list(session.scalars(queries.quarters_with_voided(engagement_id)))


def check_ins_with_voided(session: Session, key_result_id: int) -> list[CheckIn]:
    return list(session.scalars(queries.check_ins_with_voided([key_result_id])))


def get_quarter(session: Session, engagement_id: int, quarter_id: int) -> Quarter:
    quarter = session.get(Quarter, quarter_id)
    if quarter is None or quarter.engagement_id != engagement_id:
        raise not_found(LocalizedText("quarter in this engagement", "此輔導專案的季度"))
    return quarter


def create_quarter(ctx: RecordContext, data: QuarterCreate) -> tuple[Quarter, list[int]]:
    """A new quarter; OKRs of the quarter before it that were decided 'continue' are carried into it."""
    if data.ends_on <= data.starts_on:
        raise invalid("body.ends_on", LocalizedText(
            f"ends on {data.ends_on.isoformat()}, not after it starts on {data.starts_on.isoformat()}",
            f"結束日 {data.ends_on.isoformat()} 不晚於開始日 {data.starts_on.isoformat()}"), "ends_before_start")
    if data.recorded_on is not None:
        require_past(ctx, data.recorded_on, "body.recorded_on")
    existing = quarters_of(ctx.session, ctx.engagement.id)
    for other in existing:
        if other.label == data.label:
            raise Conflict(LocalizedText(f"The engagement already has a quarter labelled {data.label}.",
                                         f"此輔導專案已有名為 {data.label} 的季度。"), extra={"quarter_id": other.id})
        if other.starts_on <= data.ends_on and data.starts_on <= other.ends_on:
            raise invalid("body.starts_on", LocalizedText(
                f"overlaps {other.label} ({other.starts_on.isoformat()} to {other.ends_on.isoformat()})",
                f"與 {other.label}({other.starts_on.isoformat()} 至 {other.ends_on.isoformat()})重疊"),
                "overlapping_quarter")
    quarter = Quarter(engagement_id=ctx.engagement.id, label=data.label, starts_on=data.starts_on,
                      ends_on=data.ends_on, recorded_on=data.recorded_on, created_at=ctx.now)
    ctx.session.add(quarter)
    ctx.session.flush()
    ctx.record_event("quarter.created", {"quarter_id": quarter.id, "label": quarter.label,
                                         "starts_on": quarter.starts_on.isoformat(),
                                         "ends_on": quarter.ends_on.isoformat()})
    carried: list[int] = []
    before = [q for q in existing if q.starts_on < quarter.starts_on]
    if before and ctx.rules.carry_decision is not None:
        previous = before[-1]
        for okr in ctx.session.scalars(queries.okrs_decided(previous.id, ctx.rules.carry_decision)):
            continuation = carry_over(ctx, okr, quarter, prepared_on=data.recorded_on)
            if continuation is not None:
                carried.append(continuation.id)
    return quarter, carried


def next_quarter_after(session: Session, quarter: Quarter) -> Quarter | None:
    return session.scalar(queries.quarter_after(quarter))


# --- OKRs and key results ----------------------------------------------------------------------------------------


def okr_views(session: Session, okrs: Sequence[Okr]) -> list[OkrOut]:
    """OKRs with their key results and continuations, in two queries whatever the count."""
    ids = [okr.id for okr in okrs]
    key_results: dict[int, list[KeyResultOut]] = defaultdict(list)
    carried_to: dict[int, int] = {}
    if ids:
        for kr in session.scalars(queries.key_results_of(ids)):
            key_results[kr.okr_id].append(key_result_out(kr))
        for child, origin in session.execute(queries.continuations_of(ids)):
            if origin is not None:
                carried_to[origin] = child
    return [
        OkrOut(id=okr.id, engagement_id=okr.engagement_id, quarter_id=okr.quarter_id, objective=okr.objective,
               owner_id=okr.owner_id, department_id=okr.department_id, score=okr.score, decision=okr.decision,
               carried_from_id=okr.carried_from_id, carried_to_id=carried_to.get(okr.id),
               key_results=key_results[okr.id], prepared_on=okr.prepared_on, decided_on=okr.decided_on,
               created_at=okr.created_at, version=okr.version, **voided_fields(okr))
        for okr in okrs
    ]


def key_result_out(kr: KeyResult) -> KeyResultOut:
    return KeyResultOut(id=kr.id, okr_id=kr.okr_id, metric=kr.metric, start=kr.start_value,
                        target=kr.target_value, current=kr.current_value, unit=kr.unit,
                        carried_from_id=kr.carried_from_id, version=kr.version, **voided_fields(kr))


def get_okr(session: Session, engagement_id: int, okr_id: int) -> Okr:
    okr = session.get(Okr, okr_id)
    if okr is None or okr.engagement_id != engagement_id:
        raise not_found(LocalizedText("OKR in this engagement", "此輔導專案的 OKR"))
    return okr


def list_okrs(session: Session, engagement_id: int, *, quarter_id: int | None, after: int, limit: int) -> list[Okr]:
    return list(session.scalars(queries.okrs_page(engagement_id, quarter_id=quarter_id, after=after, limit=limit)))


def create_okr(ctx: RecordContext, quarter: Quarter, data: OkrCreate) -> Okr:
    return create_okr_warned(ctx, quarter, data)[0]


def create_okr_warned(ctx: RecordContext, quarter: Quarter, data: OkrCreate) -> tuple[Okr, list[str]]:
    """A new OKR and the warnings of the rules its playbook only warns about."""
    require_open(ctx, quarter)
    require_person(ctx, data.owner_id, "body.owner_id")
    require_department(ctx, data.department_id, "body.department_id")
    if data.prepared_on is not None:
        require_past(ctx, data.prepared_on, "body.prepared_on")
    refuse([rules.okr_owner_breach(data.owner_id, data.department_id),
            *rules.key_result_breaches([(kr.start, kr.target) for kr in data.key_results],
                                       "body.key_results[{}].target")])
    warnings: list[str] = []
    # Judged on the day the OKR was prepared: one prepared before its quarter began needed no key result yet.
    without = rules.okr_key_result_breach(len(data.key_results), quarter.label, quarter.starts_on,
                                          data.prepared_on or ctx.today)
    if without is not None:
        if not ctx.rules.okr_key_results_warn_only:
            refuse([without])
        warnings.append(without.message.en)
    okr = Okr(engagement_id=ctx.engagement.id, quarter_id=quarter.id, objective=data.objective.strip(),
              owner_id=data.owner_id, department_id=data.department_id, prepared_on=data.prepared_on,
              created_at=ctx.now)
    ctx.session.add(okr)
    ctx.session.flush()
    krs = [_new_key_result(ctx, okr, kr) for kr in data.key_results]
    ctx.session.flush()
    ctx.record_event("okr.created", {"okr_id": okr.id, "quarter_id": quarter.id, "owner_id": okr.owner_id,
                                     "department_id": okr.department_id, "key_result_ids": [k.id for k in krs],
                                     **({"prepared_on": okr.prepared_on.isoformat()} if okr.prepared_on else {}),
                                     **({"warnings": warnings} if warnings else {})})
    return okr, warnings


def _new_key_result(ctx: RecordContext, okr: Okr, data: KeyResultCreate) -> KeyResult:
    kr = KeyResult(engagement_id=ctx.engagement.id, okr_id=okr.id, metric=data.metric.strip(),
                   start_value=data.start, target_value=data.target,
                   current_value=data.start if data.current is None else data.current, unit=data.unit,
                   created_at=ctx.now)
    ctx.session.add(kr)
    return kr


def add_key_result(ctx: RecordContext, okr: Okr, data: KeyResultCreate) -> KeyResult:
    require_open_for(ctx, okr)
    refuse(rules.key_result_breaches([(data.start, data.target)], "body.target"))
    kr = _new_key_result(ctx, okr, data)
    ctx.session.flush()
    ctx.record_event("key_result.created", {"key_result_id": kr.id, "okr_id": okr.id})
    return kr


# --- check-ins ---------------------------------------------------------------------------------------------------


def record_check_in(ctx: RecordContext, quarter: Quarter, data: CheckInCreate) -> CheckIn:
    kr = ctx.session.get(KeyResult, data.key_result_id)
    if kr is None or kr.engagement_id != ctx.engagement.id:
        raise invalid("body.key_result_id", LocalizedText("not a key result of this engagement",
                                                          "不是此輔導專案的關鍵結果"), "unknown_key_result")
    okr = ctx.session.get(Okr, kr.okr_id)
    if okr is None or okr.quarter_id != quarter.id:
        other = ctx.session.get(Quarter, okr.quarter_id) if okr else None
        where = other.label if other else "?"
        raise invalid("body.key_result_id", LocalizedText(
            f"the key result {kr.metric or okr.objective if okr else ''} belongs to {where}, not {quarter.label}",
            f"關鍵結果 {kr.metric or okr.objective if okr else ''} 屬於 {where},不是 {quarter.label}"),
            "other_quarter")
    if not quarter.starts_on <= data.week_of <= quarter.ends_on:
        raise invalid("body.week_of", LocalizedText(
            f"{data.week_of.isoformat()} is outside {quarter.label} ({quarter.starts_on.isoformat()} to "
            f"{quarter.ends_on.isoformat()})",
            f"{data.week_of.isoformat()} 不在 {quarter.label}({quarter.starts_on.isoformat()} 至 "
            f"{quarter.ends_on.isoformat()})之內"), "outside_quarter")
    require_past(ctx, data.week_of, "body.week_of")
    require_open(ctx, quarter)
    top = ctx.rules.check_in_confidence_max
    if data.confidence is not None and top is not None and data.confidence > top:
        raise invalid("body.confidence", LocalizedText(
            f"{data.confidence:g} is above this playbook's confidence scale 0-{top:g}",
            f"{data.confidence:g} 超出此手冊的信心刻度 0-{top:g}"), "confidence_scale")
    require_person(ctx, data.author_id, "body.author_id")
    check_in = CheckIn(engagement_id=ctx.engagement.id, key_result_id=kr.id, week_of=data.week_of,
                       value=data.value, confidence=data.confidence, note=data.note, author_id=data.author_id,
                       created_at=ctx.now)
    ctx.session.add(check_in)
    ctx.session.flush()
    latest = _latest_check_ins(ctx.session, [kr.id]).get(kr.id)
    if latest is not None and latest.value != kr.current_value:
        kr.current_value = latest.value  # a late entry for an earlier week does not rewind the current value
        ctx.session.flush()
    ctx.record_event("check_in.recorded", {"check_in_id": check_in.id, "key_result_id": kr.id, "okr_id": okr.id,
                                           "week_of": data.week_of.isoformat(), "value": data.value,
                                           "confidence": data.confidence})
    return check_in


def _latest_check_ins(session: Session, key_result_ids: Sequence[int]) -> dict[int, CheckIn]:
    latest: dict[int, CheckIn] = {}
    if key_result_ids:
        for check_in in session.scalars(queries.check_ins_of(key_result_ids)):
            latest[check_in.key_result_id] = check_in
    return latest


def check_ins_of(session: Session, key_result_ids: Sequence[int]) -> dict[int, list[CheckIn]]:
    history: dict[int, list[CheckIn]] = defaultdict(list)
    if key_result_ids:
        for check_in in session.scalars(queries.check_ins_of(key_result_ids)):
            history[check_in.key_result_id].append(check_in)
    return history


def get_key_result(session: Session, engagement_id: int, key_result_id: int) -> KeyResult:
    kr = session.get(KeyResult, key_result_id)
    if kr is None or kr.engagement_id != engagement_id:
        raise not_found(LocalizedText("key result in this engagement", "此輔導專案的關鍵結果"))
    return kr


# --- scoring, decisions, carry-over ------------------------------------------------------------------------------


def score_okr(ctx: RecordContext, okr: Okr, score: float) -> Okr:
    scale = ctx.rules.score_scale
    if scale is not None:
        match = next((s for s in scale if abs(score - s) < SCORE_TOLERANCE), None)
        if match is None:
            shown = " / ".join(f"{s:.1f}" for s in scale)
            raise invalid("body.score", LocalizedText(f"{score:g} is not on this playbook's scale {shown}",
                                                      f"{score:g} 不在此手冊的評分刻度 {shown} 上"), "off_scale")
        score = match
    elif not 0.0 <= score <= 1.0:
        raise invalid("body.score", LocalizedText(f"{score:g} is outside 0.0-1.0", f"{score:g} 不在 0.0-1.0 之間"),
                      "off_scale")
    quarter = ctx.session.get(Quarter, okr.quarter_id)
    if quarter is not None:
        require_scoring_open(ctx, quarter)
    if okr.score != score:
        require_open(ctx, quarter)
        completes_quarter = okr.score is None
        okr.score = score
        okr.scored_at = ctx.now
        ctx.session.flush()
        ctx.record_event("okr.scored", {"okr_id": okr.id, "quarter_id": okr.quarter_id, "score": score})
        if completes_quarter:
            _note_quarter_scored(ctx, okr.quarter_id)
    return okr


def _note_quarter_scored(ctx: RecordContext, quarter_id: int) -> None:
    """The last OKR of a quarter got its score: the quarter is scored (the CRM hears of it by webhook)."""
    scores = list(ctx.session.scalars(queries.scores_of_quarter(quarter_id)))
    if scores and all(score is not None for score in scores):
        quarter = ctx.session.get(Quarter, quarter_id)
        ctx.record_event("quarter.scored", {
            "quarter_id": quarter_id, "label": quarter.label if quarter else None, "okrs": len(scores),
            "average_score": round(sum(s for s in scores if s is not None) / len(scores), 3),
        })


def decide_okr(ctx: RecordContext, okr: Okr, decision: str, recorded_on: date | None = None
               ) -> tuple[Okr, Okr | None]:
    """Record leadership's decision (taken on ``recorded_on``, today when None); 'continue' carries the OKR into
    the next quarter when it exists."""
    if recorded_on is not None:
        require_past(ctx, recorded_on, "body.recorded_on")
    decisions = ctx.rules.decisions
    if decisions is not None and decision not in decisions:
        choices = listed([vocabulary.decision(d) for d in decisions], limit=len(decisions))
        raise invalid("body.decision", LocalizedText(f"not a decision of this playbook; its decisions: {choices.en}",
                                                     f"不是此手冊的決定;可用的決定:{choices.zh_tw}"),
                      "unknown_decision")
    unscored = list(ctx.session.scalars(queries.unscored_okr_ids(okr.quarter_id)))
    if unscored:
        quarter = ctx.session.get(Quarter, okr.quarter_id)
        label = quarter.label if quarter else "?"
        objectives = names(o.objective for i in unscored[:NAMES_SHOWN] if (o := ctx.session.get(Okr, i)))
        more = len(unscored) - min(len(unscored), NAMES_SHOWN)
        objectives_en = objectives.en + (f" and {more} more" if more else "")
        objectives_zh = objectives.zh_tw + (f" 等 {len(unscored)} 項" if more else "")
        raise invalid("body.decision", LocalizedText(
            f"decide once the quarter is scored: in {label}, {objectives_en} "
            f"{'has' if len(unscored) == 1 else 'have'} no score yet",
            f"請在季度評分完成後再決定:{label} 的 {objectives_zh} 尚未評分"), "quarter_not_scored")
    continuation = ctx.session.scalar(queries.continuation_of(okr.id))
    if continuation is not None and decision != ctx.rules.carry_decision:
        raise Conflict(LocalizedText(f"The OKR {okr.objective} was already carried into the next quarter; its decision "
                                     "can no longer change.",
                                     f"OKR {okr.objective} 已延續到下一季,其決定無法再更改。"),
                       extra={"carried_to_id": continuation.id})
    if okr.decision != decision or (recorded_on is not None and okr.decided_on != recorded_on):
        require_open_for(ctx, okr)
        okr.decision = decision
        okr.decided_at = ctx.now
        okr.decided_on = recorded_on
        ctx.session.flush()
        ctx.record_event("okr.decided", {"okr_id": okr.id, "quarter_id": okr.quarter_id, "decision": decision})
        close_if_decided(ctx, okr.quarter_id)
    if decision == ctx.rules.carry_decision and continuation is None:
        quarter = ctx.session.get(Quarter, okr.quarter_id)
        following = next_quarter_after(ctx.session, quarter) if quarter else None
        if following is not None:
            continuation = carry_over(ctx, okr, following, prepared_on=recorded_on)
    return okr, continuation


def carry_over(ctx: RecordContext, okr: Okr, into: Quarter, *, prepared_on: date | None = None) -> Okr | None:
    """Copy an OKR and its key results into ``into``; each key result restarts from its last check-in value. The
    copy counts as prepared on ``prepared_on`` (the quarter's or the decision's recorded day; None: today)."""
    if ctx.session.scalar(queries.continuation_id(okr.id)) is not None:
        return None
    continuation = Okr(engagement_id=okr.engagement_id, quarter_id=into.id, objective=okr.objective,
                       owner_id=okr.owner_id, department_id=okr.department_id, carried_from_id=okr.id,
                       prepared_on=prepared_on, created_at=ctx.now)
    ctx.session.add(continuation)
    ctx.session.flush()
    origins = list(ctx.session.scalars(queries.key_results_of([okr.id])))
    latest = _latest_check_ins(ctx.session, [kr.id for kr in origins])
    for origin in origins:
        baseline = latest[origin.id].value if origin.id in latest else origin.current_value
        ctx.session.add(KeyResult(engagement_id=origin.engagement_id, okr_id=continuation.id, metric=origin.metric,
                                  start_value=baseline, target_value=origin.target_value, current_value=baseline,
                                  unit=origin.unit, carried_from_id=origin.id, created_at=ctx.now))
    ctx.session.flush()
    ctx.record_event("okr.carried_over", {"okr_id": continuation.id, "carried_from_id": okr.id,
                                          "quarter_id": into.id, "key_results": len(origins)})
    return continuation
