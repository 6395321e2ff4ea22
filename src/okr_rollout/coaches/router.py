"""/api/v1/coaches (the firm's directory) and /api/v1/engagements/{id}/coaches (who coaches an engagement)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from okr_rollout.api.deps import CallerDep, Cursor, IfMatch, Limit, NowDep, SessionDep, check_if_match, set_etag
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.coaches import service
from okr_rollout.coaches.schemas import CoachAssignment, CoachCreate, CoachOut, EngagementCoachesOut
from okr_rollout.models import Engagement, Person

router = APIRouter(tags=["coaches"], responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


def coach_out(person: Person) -> CoachOut:
    return CoachOut(id=person.id, name=person.name, email=person.email, locale=person.locale, version=person.version)


@router.post("/api/v1/coaches", status_code=status.HTTP_201_CREATED, response_model=CoachOut)
def create_coach(data: CoachCreate, session: SessionDep, caller: CallerDep, now: NowDep, response: Response
                 ) -> CoachOut:
    """A new coach of the firm (administrators and integrations). A login or a token for them is made apart."""
    coach = service.create_coach(session, caller, data, now)
    response.headers["Location"] = f"/api/v1/coaches/{coach.id}"
    return coach_out(coach)


@router.get("/api/v1/coaches", response_model=Page[CoachOut])
def list_coaches(session: SessionDep, caller: CallerDep, cursor: Cursor, limit: Limit = 50) -> Page[CoachOut]:
    rows = service.list_coaches(session, caller, after=cursor.after, limit=limit)
    return cursor.page([coach_out(p) for p in rows], [p.id for p in rows], limit)


@router.get("/api/v1/coaches/{coach_id}", response_model=CoachOut)
def get_coach(coach_id: int, session: SessionDep, caller: CallerDep) -> CoachOut:
    return coach_out(service.visible_coach(session, caller, coach_id))


def _coaches_out(session: SessionDep, engagement: Engagement, response: Response) -> EngagementCoachesOut:
    set_etag(response, engagement.version)
    return EngagementCoachesOut(engagement_id=engagement.id, version=engagement.version,
                                coaches=[coach_out(p) for p in service.coaches_of(session, engagement.id)])


@router.get("/api/v1/engagements/{engagement_id}/coaches", response_model=EngagementCoachesOut)
def engagement_coaches(engagement_id: int, session: SessionDep, caller: CallerDep, response: Response
                       ) -> EngagementCoachesOut:
    return _coaches_out(session, visible_engagement(session, caller, engagement_id), response)


@router.post("/api/v1/engagements/{engagement_id}/coaches", response_model=EngagementCoachesOut)
def assign_coach(engagement_id: int, data: CoachAssignment, session: SessionDep, caller: CallerDep, now: NowDep,
                 response: Response, if_match: IfMatch = None) -> EngagementCoachesOut:
    """Assign a coach, or hand the engagement over from one coach to another (``hand_over_from``); recorded in
    the history. Administrators and integrations only."""
    if if_match is not None:
        check_if_match(if_match, visible_engagement(session, caller, engagement_id).version)
    engagement = service.assign(session, caller, engagement_id, data, now)
    return _coaches_out(session, engagement, response)


@router.delete("/api/v1/engagements/{engagement_id}/coaches/{coach_id}", response_model=EngagementCoachesOut)
def unassign_coach(engagement_id: int, coach_id: int, session: SessionDep, caller: CallerDep, now: NowDep,
                   response: Response, if_match: IfMatch = None) -> EngagementCoachesOut:
    """Take a coach off the engagement; recorded in the history. Administrators and integrations only."""
    if if_match is not None:
        check_if_match(if_match, visible_engagement(session, caller, engagement_id).version)
    engagement = service.unassign(session, caller, engagement_id, coach_id, now)
    return _coaches_out(session, engagement, response)
