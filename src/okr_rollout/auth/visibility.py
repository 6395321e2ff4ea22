"""What a caller may see: the one rule, as SQL, used by the API, the pages, the portfolio and the fast path.

Everything else answers 404 (never 403) for what a caller may not see.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.errors import not_found
from okr_rollout.models import Engagement, EngagementCoach, Organization
from okr_rollout.texts import LocalizedText


def engagement_visibility(caller: Caller) -> ColumnElement[bool]:
    """The one rule: administrators and integrations see every engagement, a coach those assigned to them, an
    internal coach those of their own organization."""
    if caller.sees_all_organizations:
        return true()
    if caller.role == Role.coach:
        return exists().where(
            EngagementCoach.engagement_id == Engagement.id, EngagementCoach.person_id == caller.person_id
        )
    return Engagement.organization_id == caller.organization_id


def organization_visibility(caller: Caller) -> ColumnElement[bool]:
    if caller.sees_all_organizations:
        return true()
    if caller.role == Role.coach:
        return exists().where(
            Engagement.organization_id == Organization.id,
            EngagementCoach.engagement_id == Engagement.id,
            EngagementCoach.person_id == caller.person_id,
        )
    return Organization.id == caller.organization_id


def visible_organization(session: Session, caller: Caller, organization_id: int) -> Organization:
    organization = session.scalar(
        select(Organization).where(Organization.id == organization_id, organization_visibility(caller))
    )
    if organization is None:
        raise not_found(LocalizedText("organization", "組織"))
    return organization


def visible_engagement(
    session: Session, caller: Caller, engagement_id: int, *, for_update: bool = False
) -> Engagement:
    """The engagement ``caller`` may see, or 404. ``for_update``: its row locked until the unit of work ends (on
    SQLite a writer holds the database's write lock already), and read afresh even if the session held it."""
    statement = select(Engagement).where(Engagement.id == engagement_id, engagement_visibility(caller))
    if for_update:
        statement = statement.with_for_update(of=Engagement).execution_options(populate_existing=True)
    engagement = session.scalar(statement)
    if engagement is None:
        raise not_found(LocalizedText("engagement", "輔導專案"))
    return engagement
