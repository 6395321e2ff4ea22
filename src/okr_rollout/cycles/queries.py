"""Statements about quarters, OKRs, key results and check-ins."""

from __future__ import annotations

from sqlalchemy import Select, select

from okr_rollout.models import KeyResult, Okr

# --- reads for the pages


def okrs_of_engagement(engagement_id: int) -> Select[Okr]:
    return select(Okr).where(Okr.engagement_id == engagement_id).order_by(Okr.id)


def okrs_of_quarter(quarter_id: int) -> Select[Okr]:
    return select(Okr).where(Okr.quarter_id == quarter_id).order_by(Okr.id)


def key_results_of_engagement(engagement_id: int) -> Select[KeyResult]:
    return select(KeyResult).where(KeyResult.engagement_id == engagement_id).order_by(KeyResult.id)
