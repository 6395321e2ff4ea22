"""The firm's coaches: created by an administrator or the CRM, assigned to engagements and handed over.

What a coach sees follows from the assignments (``auth.visibility``): once a coach is unassigned or hands an
engagement over, their token and sign-in answer 404 for it, and the new coach sees it. Every change of the
assignments appends an event to the engagement's history. Flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.coaches import queries
from okr_rollout.coaches.schemas import CoachAssignment, CoachCreate
from okr_rollout.errors import Conflict, Unprocessable, field_error, not_found
from okr_rollout.events import service as events
from okr_rollout.models import Engagement, EngagementCoach, Person
from okr_rollout.texts import LocalizedText

_COACH = LocalizedText("coach", "教練")
ASSIGNED = "engagement.coach_assigned"
UNASSIGNED = "engagement.coach_unassigned"
HANDED_OVER = "engagement.handed_over"


def _may_manage(caller: Caller) -> bool:
    return caller.role in (Role.admin, Role.integration)


def create_coach(session: Session, caller: Caller, data: CoachCreate, now: datetime) -> Person:
    """A new coach of the firm (a person of no client organization)."""
    if not _may_manage(caller):
        raise not_found(_COACH)  # only administrators and integrations create coaches
    coach = Person(organization_id=None, name=data.name, email=data.email, roles=[queries.COACH_ROLE],
                   locale=data.locale, created_at=now)
    session.add(coach)
    session.flush()
    return coach


def list_coaches(session: Session, caller: Caller, *, after: int, limit: int) -> list[Person]:
    """The firm's directory: for administrators, integrations and the coaches themselves (a client's internal
    coach does not see the firm's people)."""
    if caller.role == Role.internal_coach:
        raise not_found(_COACH)  # the firm's coaches are not listed to a client
    return list(session.scalars(queries.coaches_page(after=after, limit=limit)))


def visible_coach(session: Session, caller: Caller, coach_id: int) -> Person:
    """One coach of the firm, to whom may list them (else 404, as for what does not exist)."""
    if caller.role == Role.internal_coach:
        raise not_found(_COACH)
    person = session.get(Person, coach_id)
    if person is None or person.organization_id is not None:
        raise not_found(_COACH)
    return person


def all_coaches(session: Session) -> list[Person]:
    return list(session.scalars(queries.all_coaches()))


def get_coach(session: Session, coach_id: int, *, field: str = "body.coach_id") -> Person:
    """A coach of the firm, or 422 naming ``field`` (a client's person is no coach)."""
    person = session.get(Person, coach_id)
    if person is None or person.organization_id is not None:
        message = LocalizedText("not a coach of the firm", "不是本顧問公司的教練")
        raise Unprocessable(LocalizedText(f"{field}: {message.en}", f"{field}:{message.zh_tw}"),
                            errors=[field_error(field, message, "unknown_coach")])
    return person


def unknown_coaches(session: Session, coach_ids: Collection[int]) -> list[int]:
    """Those of ``coach_ids`` that are not coaches of the firm, in order."""
    found = set(session.scalars(queries.firm_people_among(list(coach_ids)))) if coach_ids else set()
    return [c for c in coach_ids if c not in found]


def coaches_of(session: Session, engagement_id: int) -> list[Person]:
    return list(session.scalars(queries.coaches_of_engagement(engagement_id)))


def _managed_engagement(session: Session, caller: Caller, engagement_id: int) -> Engagement:
    if not _may_manage(caller):
        # A coach may see the engagement but not change who coaches it; one who may not see it learns nothing.
        visible_engagement(session, caller, engagement_id)
        raise not_found(LocalizedText("engagement whose coaches you may change", "您可變更其教練的導入案"))
    return visible_engagement(session, caller, engagement_id, for_update=True)


def _is_assigned(session: Session, engagement_id: int, person_id: int) -> bool:
    return session.scalar(queries.assignment(engagement_id, person_id)) is not None


def _touch(engagement: Engagement, now: datetime) -> None:
    """The coaches are part of the engagement as the API shows it: its version (ETag) moves on."""
    engagement.updated_at = now
    flag_modified(engagement, "updated_at")  # an UPDATE (and a new version) even when the clock has not moved


def _who(person: Person) -> dict[str, object]:
    return {"id": person.id, "name": person.name}


def assign(session: Session, caller: Caller, engagement_id: int, data: CoachAssignment, now: datetime
           ) -> Engagement:
    """Assign a coach; with ``hand_over_from``, that coach leaves the engagement in the same change."""
    engagement = _managed_engagement(session, caller, engagement_id)
    coach = get_coach(session, data.coach_id)
    leaving: Person | None = None
    if data.hand_over_from is not None:
        if data.hand_over_from == data.coach_id:
            message = LocalizedText("a coach cannot hand an engagement over to themself",
                                    "教練不能把導入案交接給自己")
            raise Unprocessable(message, errors=[field_error("body.hand_over_from", message, "same_coach")])
        leaving = get_coach(session, data.hand_over_from, field="body.hand_over_from")
        if not _is_assigned(session, engagement.id, leaving.id):
            message = LocalizedText(f"{leaving.name} does not coach this engagement",
                                    f"{leaving.name} 並未輔導此導入案")
            raise Unprocessable(message, errors=[field_error("body.hand_over_from", message, "not_assigned")])
    if _is_assigned(session, engagement.id, coach.id):
        raise Conflict(LocalizedText(f"{coach.name} already coaches this engagement", f"{coach.name} 已在輔導此導入案"))
    session.add(EngagementCoach(engagement_id=engagement.id, person_id=coach.id))
    if leaving is not None:
        session.execute(queries.unassign(engagement.id, leaving.id))
    _touch(engagement, now)
    session.flush()
    if leaving is not None:
        events.append(session, type=HANDED_OVER, actor=caller.actor, at=now,
                      organization_id=engagement.organization_id, engagement_id=engagement.id,
                      payload={"from": _who(leaving), "to": _who(coach)})
    else:
        events.append(session, type=ASSIGNED, actor=caller.actor, at=now,
                      organization_id=engagement.organization_id, engagement_id=engagement.id,
                      payload={"coach": _who(coach)})
    return engagement


def unassign(session: Session, caller: Caller, engagement_id: int, coach_id: int, now: datetime) -> Engagement:
    """Take a coach off the engagement. The last coach may leave too: the engagement then waits for one (its
    coach gate says so) and an administrator assigns another."""
    engagement = _managed_engagement(session, caller, engagement_id)
    coach = session.get(Person, coach_id)
    if coach is None or not _is_assigned(session, engagement.id, coach_id):
        raise not_found(LocalizedText("coach of this engagement", "此導入案的教練"))
    session.execute(queries.unassign(engagement.id, coach.id))
    _touch(engagement, now)
    session.flush()
    events.append(session, type=UNASSIGNED, actor=caller.actor, at=now, organization_id=engagement.organization_id,
                  engagement_id=engagement.id, payload={"coach": _who(coach)})
    return engagement
