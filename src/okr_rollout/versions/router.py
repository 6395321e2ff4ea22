"""POST /api/v1/engagements/{id}/migrations: preview, then apply, a move to another playbook version."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from okr_rollout.api.deps import CallerDep, CatalogDep, IfMatch, NowDep, SessionDep, check_if_match, set_etag
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES, request_locale
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.versions import service
from okr_rollout.versions.schemas import MigrationRequest, MigrationResult

router = APIRouter(tags=["engagements"], responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


@router.post(
    "/api/v1/engagements/{engagement_id}/migrations", response_model=MigrationResult,
    responses={409: {**WRITE_RESPONSES[409],
                     "description": "The engagement already runs that version, or its phase does not exist in "
                                    "the new version and phase_map does not say where it goes (the body names "
                                    "the phase and suggests a mapping). Nothing was written."}},
)
def migrate_engagement(engagement_id: int, data: MigrationRequest, session: SessionDep, caller: CallerDep,
                       catalog: CatalogDep, now: NowDep, request: Request, response: Response,
                       if_match: IfMatch = None
                       ) -> MigrationResult:
    """The plan of moving the engagement to ``to_version`` (``dry_run``, the default), or that plan applied in
    one transaction and recorded as a ``playbook.migrated`` event."""
    expected = None
    if if_match is not None and if_match.strip() != "*":
        engagement = visible_engagement(session, caller, engagement_id)
        check_if_match(if_match, engagement.version)
        expected = engagement.version
    result = service.migrate(session, caller, catalog, engagement_id, data, now, expected)
    set_etag(response, result.engagement_version)
    locale = request_locale(request)
    for transition in result.plan.readiness.transitions:  # each reason in the caller's language
        for criterion in transition.criteria:
            criterion.reason = criterion.reasons.get(locale)
    return result
