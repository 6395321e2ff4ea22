"""Correct and void quarters, OKRs, key results, check-ins, scores and decisions; close a quarter once its OKRs
are decided and reopen it. The same convention as ``records.corrections``. Flushes only.

Voiding cascades down the tree: a voided quarter voids its OKRs, a voided OKR its key results, a voided key
result its check-ins (each with the same reason), so every table's own ``voided_at`` tells a gate what counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from okr_rollout.cycles import queries, service
from okr_rollout.cycles.closing import close_if_decided, require_open, require_open_for
from okr_rollout.errors import Conflict, not_found
from okr_rollout.models import CheckIn, KeyResult, Okr, Quarter
from okr_rollout.records.context import RecordContext, invalid, require_department, require_past, require_person
from okr_rollout.records.correction_schemas import (
    CheckInCorrection,
    KeyResultCorrection,
    OkrCorrection,
    QuarterCorrection,
)
from okr_rollout.records.corrections import (
    Correction,
    RecordKind,
    apply,
    mark_voided,
    plain,
    require_not_voided,
    sent,
)
from okr_rollout.texts import LocalizedText

QUARTER = RecordKind("quarter", LocalizedText("quarter", "季度"))
OKR = RecordKind("okr", LocalizedText("OKR", "OKR"))
KEY_RESULT = RecordKind("key_result", LocalizedText("key result", "關鍵結果"))
CHECK_IN = RecordKind("check_in", LocalizedText("check-in", "進度更新"))
SCORE = RecordKind("score", LocalizedText("score", "評分"))
DECISION = RecordKind("decision", LocalizedText("decision", "決定"))


def reopen_quarter(ctx: RecordContext, quarter: Quarter, reason: str) -> Quarter:
    """Reopen a closed quarter, with the reason in the history; it closes again when its OKRs are all decided."""
    require_not_voided(quarter, QUARTER)
    if quarter.closed_at is None:
        raise Conflict(LocalizedText(f"{quarter.label} is not closed; there is nothing to reopen.",
                                     f"{quarter.label} 未結案,無須重新開啟。"), extra={"quarter_id": quarter.id})
    correction = Correction(ctx)
    closed_at = quarter.closed_at
    quarter.closed_at = None
    ctx.session.flush()
    ctx.record_event("quarter.reopened", {"quarter_id": quarter.id, "label": quarter.label, "reason": reason,
                                          "closed_at": plain(closed_at)})
    correction.finish()
    return quarter


# --- quarters ----------------------------------------------------------------------------------------------------


def _quarter_snapshot(quarter: Quarter) -> dict[str, Any]:
    return {"label": quarter.label, "starts_on": plain(quarter.starts_on), "ends_on": plain(quarter.ends_on)}


def correct_quarter(ctx: RecordContext, quarter: Quarter, data: QuarterCorrection) -> Quarter:
    require_not_voided(quarter, QUARTER)
    require_open(ctx, quarter)
    changes = sent(data)
    starts_on = changes.get("starts_on", quarter.starts_on)
    ends_on = changes.get("ends_on", quarter.ends_on)
    if ends_on <= starts_on:
        raise invalid("body.ends_on", LocalizedText(
            f"ends on {ends_on.isoformat()}, not after it starts on {starts_on.isoformat()}",
            f"結束日 {ends_on.isoformat()} 不晚於開始日 {starts_on.isoformat()}"), "ends_before_start")
    for other in ctx.session.scalars(queries.quarters_of(ctx.engagement.id)):
        if other.id == quarter.id:
            continue
        if other.label == changes.get("label"):
            raise Conflict(LocalizedText(f"The engagement already has a quarter labelled {other.label}.",
                                         f"此輔導專案已有名為 {other.label} 的季度。"), extra={"quarter_id": other.id})
        if other.starts_on <= ends_on and starts_on <= other.ends_on:
            raise invalid("body.starts_on", LocalizedText(
                f"overlaps {other.label} ({other.starts_on.isoformat()} to {other.ends_on.isoformat()})",
                f"與 {other.label}({other.starts_on.isoformat()} 至 {other.ends_on.isoformat()})重疊"),
                "overlapping_quarter")
    correction = Correction(ctx)
    correction.change(QUARTER, quarter, changes)
    return quarter


def void_quarter(ctx: RecordContext, quarter: Quarter, reason: str) -> Quarter:
    require_not_voided(quarter, QUARTER)
    require_open(ctx, quarter)
    correction = Correction(ctx)
    okrs = list(ctx.session.scalars(queries.okrs_of_quarter(quarter.id)))
    cascade = _void_okrs(ctx, okrs, reason)
    before = _quarter_snapshot(quarter)
    mark_voided(ctx, [quarter], reason)
    ctx.session.flush()
    correction.voided(QUARTER, quarter, reason, before, cascade=cascade)
    correction.finish()
    return quarter


# --- OKRs and key results ----------------------------------------------------------------------------------------


def _void_okrs(ctx: RecordContext, okrs: Sequence[Okr], reason: str) -> dict[str, list[int]]:
    """Void OKRs with their key results and check-ins; the ids voided, by kind."""
    key_results = list(ctx.session.scalars(queries.key_results_of([o.id for o in okrs]))) if okrs else []
    cascade = _void_key_results(ctx, key_results, reason)
    return {"okrs": mark_voided(ctx, okrs, reason), **cascade}


def _void_key_results(ctx: RecordContext, key_results: Sequence[KeyResult], reason: str) -> dict[str, list[int]]:
    check_ins = list(ctx.session.scalars(queries.check_ins_of([k.id for k in key_results]))) if key_results else []
    return {"key_results": mark_voided(ctx, key_results, reason), "check_ins": mark_voided(ctx, check_ins, reason)}


def correct_okr(ctx: RecordContext, okr: Okr, data: OkrCorrection) -> Okr:
    require_not_voided(okr, OKR)
    require_open_for(ctx, okr)
    changes = sent(data)
    if "objective" in changes:
        changes["objective"] = changes["objective"].strip()
    if "owner_id" in changes:
        require_person(ctx, changes["owner_id"], "body.owner_id")
    if "department_id" in changes:
        require_department(ctx, changes["department_id"], "body.department_id")
    correction = Correction(ctx)
    correction.change(OKR, okr, changes, quarter_id=okr.quarter_id)
    return okr


def void_okr(ctx: RecordContext, okr: Okr, reason: str) -> Okr:
    require_not_voided(okr, OKR)
    require_open_for(ctx, okr)
    correction = Correction(ctx)
    before = {"objective": okr.objective, "quarter_id": okr.quarter_id, "owner_id": okr.owner_id,
              "department_id": okr.department_id, "score": okr.score, "decision": okr.decision}
    cascade = _void_okrs(ctx, [okr], reason)
    cascade["okrs"] = [i for i in cascade["okrs"] if i != okr.id]
    ctx.session.flush()
    correction.voided(OKR, okr, reason, before, cascade=cascade)
    close_if_decided(ctx, okr.quarter_id)  # the OKR voided was the last one undecided
    correction.finish()
    return okr


KEY_RESULT_COLUMNS = {"start": "start_value", "target": "target_value", "current": "current_value"}


def correct_key_result(ctx: RecordContext, kr: KeyResult, data: KeyResultCorrection) -> KeyResult:
    require_not_voided(kr, KEY_RESULT)
    okr = ctx.session.get(Okr, kr.okr_id)
    if okr is not None:
        require_open_for(ctx, okr)
    changes = sent(data)
    if "metric" in changes:
        changes["metric"] = changes["metric"].strip()
    correction = Correction(ctx)
    correction.change(KEY_RESULT, kr, changes, KEY_RESULT_COLUMNS, okr_id=kr.okr_id)
    return kr


def void_key_result(ctx: RecordContext, kr: KeyResult, reason: str) -> KeyResult:
    require_not_voided(kr, KEY_RESULT)
    okr = ctx.session.get(Okr, kr.okr_id)
    if okr is not None:
        require_open_for(ctx, okr)
    correction = Correction(ctx)
    before = {"metric": kr.metric, "okr_id": kr.okr_id, "start": kr.start_value, "target": kr.target_value,
              "current": kr.current_value, "unit": kr.unit}
    cascade = _void_key_results(ctx, [kr], reason)
    cascade["key_results"] = []
    ctx.session.flush()
    correction.voided(KEY_RESULT, kr, reason, before, cascade=cascade)
    correction.finish()
    return kr


# --- check-ins ---------------------------------------------------------------------------------------------------


def get_check_in(session: Session, engagement_id: int, check_in_id: int) -> CheckIn:
    check_in = session.get(CheckIn, check_in_id)
    if check_in is None or check_in.engagement_id != engagement_id:
        raise not_found(LocalizedText("check-in in this engagement", "此輔導專案的進度更新"))
    return check_in


def _refresh_current_value(ctx: RecordContext, kr: KeyResult) -> None:
    """The key result's current value is its latest check-in's (by week), or its start when none is left."""
    ctx.session.flush()
    latest = list(ctx.session.scalars(queries.check_ins_of([kr.id])))
    value = latest[-1].value if latest else kr.start_value
    if kr.current_value != value:
        kr.current_value = value
        ctx.session.flush()


def _check_in_snapshot(check_in: CheckIn) -> dict[str, Any]:
    return {"key_result_id": check_in.key_result_id, "week_of": plain(check_in.week_of), "value": check_in.value,
            "confidence": check_in.confidence, "note": check_in.note, "author_id": check_in.author_id}


def correct_check_in(ctx: RecordContext, check_in: CheckIn, data: CheckInCorrection) -> CheckIn:
    require_not_voided(check_in, CHECK_IN)
    kr = ctx.session.get(KeyResult, check_in.key_result_id)
    okr = ctx.session.get(Okr, kr.okr_id) if kr else None
    quarter = ctx.session.get(Quarter, okr.quarter_id) if okr else None
    require_open(ctx, quarter)
    changes = sent(data)
    if "week_of" in changes and quarter is not None:
        week_of = changes["week_of"]
        if not quarter.starts_on <= week_of <= quarter.ends_on:
            raise invalid("body.week_of", LocalizedText(
                f"{week_of.isoformat()} is outside {quarter.label} ({quarter.starts_on.isoformat()} to "
                f"{quarter.ends_on.isoformat()})",
                f"{week_of.isoformat()} 不在 {quarter.label}({quarter.starts_on.isoformat()} 至 "
                f"{quarter.ends_on.isoformat()})之內"), "outside_quarter")
        require_past(ctx, week_of, "body.week_of")
    top = ctx.rules.check_in_confidence_max
    confidence = changes.get("confidence")
    if confidence is not None and top is not None and confidence > top:
        raise invalid("body.confidence", LocalizedText(
            f"{confidence:g} is above this playbook's confidence scale 0-{top:g}",
            f"{confidence:g} 超出此手冊的信心刻度 0-{top:g}"), "confidence_scale")
    if "author_id" in changes:
        require_person(ctx, changes["author_id"], "body.author_id")
    correction = Correction(ctx)
    before, after = apply(check_in, changes)
    if after:
        if kr is not None:
            _refresh_current_value(ctx, kr)
        ctx.session.flush()
        correction.corrected(CHECK_IN, check_in, before, after, key_result_id=check_in.key_result_id)
    correction.finish()
    return check_in


def void_check_in(ctx: RecordContext, check_in: CheckIn, reason: str) -> CheckIn:
    require_not_voided(check_in, CHECK_IN)
    kr = ctx.session.get(KeyResult, check_in.key_result_id)
    okr = ctx.session.get(Okr, kr.okr_id) if kr else None
    require_open(ctx, ctx.session.get(Quarter, okr.quarter_id) if okr else None)
    correction = Correction(ctx)
    before = _check_in_snapshot(check_in)
    mark_voided(ctx, [check_in], reason)
    if kr is not None:
        _refresh_current_value(ctx, kr)
    ctx.session.flush()
    correction.voided(CHECK_IN, check_in, reason, before)
    correction.finish()
    return check_in


# --- scores and decisions ----------------------------------------------------------------------------------------


def correct_score(ctx: RecordContext, okr: Okr, score: float) -> Okr:
    """Correct an OKR's score with the rules of scoring it (scale, quarter end, quarter open)."""
    require_not_voided(okr, OKR)
    correction = Correction(ctx)
    before = okr.score
    service.score_okr(ctx, okr, score)
    if okr.score != before:
        correction.corrected(SCORE, okr, {"score": before}, {"score": okr.score}, quarter_id=okr.quarter_id)
    correction.finish()
    return okr


def void_score(ctx: RecordContext, okr: Okr, reason: str) -> Okr:
    """Clear an OKR's score (recorded by mistake); the history keeps what it was."""
    require_not_voided(okr, OKR)
    require_open_for(ctx, okr)
    if okr.score is None:
        raise Conflict(LocalizedText(f"The OKR {okr.objective} has no score to void.",
                                     f"OKR {okr.objective} 沒有可作廢的評分。"))
    if okr.decision is not None:
        raise Conflict(LocalizedText(
            f"The OKR {okr.objective} is decided ({okr.decision}); void its decision before its score.",
            f"OKR {okr.objective} 已有決定({okr.decision});請先作廢其決定,再作廢評分。"))
    correction = Correction(ctx)
    before = {"score": okr.score, "scored_at": plain(okr.scored_at)}
    okr.score, okr.scored_at = None, None
    ctx.session.flush()
    correction.voided(SCORE, okr, reason, before, quarter_id=okr.quarter_id)
    correction.finish()
    return okr


def correct_decision(ctx: RecordContext, okr: Okr, decision: str) -> tuple[Okr, Okr | None]:
    require_not_voided(okr, OKR)
    correction = Correction(ctx)
    before = okr.decision
    okr, continuation = service.decide_okr(ctx, okr, decision)
    if okr.decision != before:
        correction.corrected(DECISION, okr, {"decision": before}, {"decision": okr.decision},
                             quarter_id=okr.quarter_id)
    correction.finish()
    return okr, continuation


def void_decision(ctx: RecordContext, okr: Okr, reason: str) -> Okr:
    require_not_voided(okr, OKR)
    require_open_for(ctx, okr)
    if okr.decision is None:
        raise Conflict(LocalizedText(f"The OKR {okr.objective} has no decision to void.",
                                     f"OKR {okr.objective} 沒有可作廢的決定。"))
    continuation = ctx.session.scalar(queries.continuation_of(okr.id))
    if continuation is not None and continuation.voided_at is None:
        raise Conflict(LocalizedText(
            f"The OKR {okr.objective} was carried into the next quarter; void its continuation there first.",
            f"OKR {okr.objective} 已延續到下一季;請先作廢下一季的延續 OKR。"),
            extra={"carried_to_id": continuation.id})
    correction = Correction(ctx)
    before = {"decision": okr.decision, "decided_at": plain(okr.decided_at)}
    okr.decision, okr.decided_at = None, None
    ctx.session.flush()
    correction.voided(DECISION, okr, reason, before, quarter_id=okr.quarter_id)
    correction.finish()
    return okr
