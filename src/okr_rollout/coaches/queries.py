"""Every statement about the firm's coaches and their assignments to engagements."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Delete, Select, delete, select

from okr_rollout.models import EngagementCoach, Person

# A coach of the firm is a person of no client organization (models.Person says so); the role is recorded on
# the people the firm creates, for the lists that show roles.
COACH_ROLE = "coach"


def coaches_page(*, after: int, limit: int) -> Select[Person]:
    """The firm's coaches past the id ``after``, one more than ``limit``."""
    return (select(Person).where(Person.organization_id.is_(None), Person.id > after)
            .order_by(Person.id).limit(limit + 1))


def firm_people_among(person_ids: Collection[int]) -> Select[int]:
    """Which of ``person_ids`` are people of the firm (of no client organization)."""
    return select(Person.id).where(Person.id.in_(person_ids), Person.organization_id.is_(None))


def assignment(engagement_id: int, person_id: int) -> Select[EngagementCoach]:
    return select(EngagementCoach).where(EngagementCoach.engagement_id == engagement_id,
                                         EngagementCoach.person_id == person_id)


def unassign(engagement_id: int, person_id: int) -> Delete:
    return delete(EngagementCoach).where(EngagementCoach.engagement_id == engagement_id,
                                         EngagementCoach.person_id == person_id)


def coaches_of_engagement(engagement_id: int) -> Select[Person]:
    """The engagement's coaches, by name."""
    return (select(Person).join(EngagementCoach, EngagementCoach.person_id == Person.id)
            .where(EngagementCoach.engagement_id == engagement_id).order_by(Person.name, Person.id))


def all_coaches() -> Select[Person]:
    """Every coach of the firm, by name (the assignment form offers them; a firm has tens, not thousands)."""
    return select(Person).where(Person.organization_id.is_(None)).order_by(Person.name, Person.id)
