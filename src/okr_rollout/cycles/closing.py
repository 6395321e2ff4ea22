"""Closed quarters and the end of a quarter: when its OKRs may be scored, when it closes, what a closed quarter
refuses. Used by the cycle's service (recording) and its corrections alike."""

from __future__ import annotations

from datetime import timedelta

from okr_rollout.cycles import queries
from okr_rollout.errors import Conflict
from okr_rollout.models import Okr, Quarter
from okr_rollout.records.context import RecordContext, invalid
from okr_rollout.texts import LocalizedText


def require_open(ctx: RecordContext, quarter: Quarter | None) -> None:
    """409 when the quarter is closed: its OKRs, key results, check-ins, scores and decisions stay as decided."""
    if quarter is None or quarter.closed_at is None:
        return
    base = f"/api/v1/engagements/{ctx.engagement.id}/quarters/{quarter.id}/reopen"
    raise Conflict(LocalizedText(
        f"{quarter.label} is closed: every OKR of it is decided, so its OKRs, key results, check-ins, scores and "
        f"decisions no longer change. Reopen it first (POST {base} with the reason).",
        f"{quarter.label} 已結案:其每個 OKR 都已決定,因此其 OKR、關鍵結果、進度更新、評分與決定不再更改。"
        f"請先重新開啟(以 POST {base} 並附上原因)。"), extra={"quarter_id": quarter.id, "rule": "quarter_closed"})


def require_open_for(ctx: RecordContext, okr: Okr) -> None:
    require_open(ctx, ctx.session.get(Quarter, okr.quarter_id))


def close_if_decided(ctx: RecordContext, quarter_id: int) -> None:
    """Close the quarter once every OKR of it (not voided) has a decision."""
    quarter = ctx.session.get(Quarter, quarter_id)
    if quarter is None or quarter.closed_at is not None:
        return
    decisions = list(ctx.session.scalars(queries.decisions_of_quarter(quarter_id)))
    if decisions and all(d is not None for d in decisions):
        quarter.closed_at = ctx.now
        ctx.session.flush()
        ctx.record_event("quarter.closed", {"quarter_id": quarter.id, "label": quarter.label, "okrs": len(decisions)})


def require_scoring_open(ctx: RecordContext, quarter: Quarter) -> None:
    """422 when the quarter's OKRs are scored before its end (less the playbook's ``scoring_early_days``)."""
    early = ctx.rules.scoring_early_days
    if early is None:
        return
    first_day = quarter.ends_on - timedelta(days=early)
    if ctx.today < first_day:
        raise invalid("body.score", LocalizedText(
            f"{quarter.label} ends on {quarter.ends_on.isoformat()}: its OKRs are scored from "
            f"{first_day.isoformat()} (today is {ctx.today.isoformat()})",
            f"{quarter.label} 於 {quarter.ends_on.isoformat()} 結束:其 OKR 自 {first_day.isoformat()} 起才能評分"
            f"(今天是 {ctx.today.isoformat()})"), "scored_before_quarter_end")
