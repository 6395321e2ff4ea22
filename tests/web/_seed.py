"""A small world for the page tests: two organizations, two coaches, an internal coach, an administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Engine

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements.schemas import EngagementCreate
from okr_rollout.models import Person, User
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import OrganizationCreate, PersonCreate
from okr_rollout.users.service import hash_password
from tests.conftest import playbooks_catalog

PASSWORD = "correct horse battery"
ADMIN = Caller(token_id=0, name="seed", role=Role.admin)


@dataclass(frozen=True)
class World:
    formosa: int  # engagement coached by chen, in the executive meeting phase
    keelung: int  # engagement coached by lin
    formosa_org: int
    ceo_id: int
    member_id: int
    chen_person: int


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def catalog() -> Catalog:
    return playbooks_catalog()


def seed(engine: Engine, now: datetime) -> World:
    with session_scope(make_session_factory(engine)) as session:
        chen = Person(name="Chen Mei-ling", roles=["coach"], created_at=now)
        lin = Person(name="Lin Hao", roles=["coach"], created_at=now)
        session.add_all([chen, lin])
        session.flush()
        formosa_org = organizations.create_organization(session, ADMIN, OrganizationCreate(
            name="Formosa Bikes", headcount=120, timezone="Asia/Taipei", challenges=["Slow launches"]), now)
        keelung_org = organizations.create_organization(session, ADMIN, OrganizationCreate(
            name="Keelung Logistics", headcount=340, timezone="Asia/Taipei"), now)
        ceo = organizations.create_person(session, ADMIN, formosa_org.id, PersonCreate(name="Lee Ceo", roles=["ceo"]),
                                          now)
        member = organizations.create_person(session, ADMIN, formosa_org.id, PersonCreate(
            name="Wang Internal", roles=["member", "internal_coach"]), now)
        books = catalog()
        formosa = engagements.create_engagement(session, ADMIN, books, EngagementCreate(
            organization_id=formosa_org.id, coach_ids=[chen.id]), now)
        keelung = engagements.create_engagement(session, ADMIN, books, EngagementCreate(
            organization_id=keelung_org.id, coach_ids=[lin.id]), now)
        engagements.fire_transition(session, ADMIN, books, formosa.id, "schedule_executive_meeting", now)
        # One argon2 hash for every login of the world: hashing is slow on purpose.
        session.add_all([
            User(email="chen@example.com", password_hash=password_hash(), role="coach", person_id=chen.id,
                 created_at=now),
            User(email="lin@example.com", password_hash=password_hash(), role="coach", person_id=lin.id,
                 created_at=now),
            User(email="wang@example.com", password_hash=password_hash(), role="internal_coach",
                 person_id=member.id, organization_id=formosa_org.id, created_at=now),
            User(email="admin@example.com", password_hash=password_hash(), role="admin", created_at=now),
        ])
        return World(formosa.id, keelung.id, formosa_org.id, ceo.id, member.id, chen.id)
