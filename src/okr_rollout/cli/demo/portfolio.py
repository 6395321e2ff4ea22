"""A realistic demo portfolio: a dozen client organizations at different points of their journey."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.auth.service import create_token
from okr_rollout.catalog.service import Catalog
from okr_rollout.cli.demo.history import Cast, timeline, walk_journey
from okr_rollout.engagements import queries as engagement_queries
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements import tasks as engagement_tasks
from okr_rollout.engagements.schemas import EngagementCreate, TaskUpdate
from okr_rollout.models import Department, Person
from okr_rollout.organizations import queries as organization_queries
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import (
    DepartmentCreate,
    DepartmentUpdate,
    OrganizationCreate,
    PersonCreate,
    PersonOut,
)
from okr_rollout.settings import Settings

# Who the demo acts as: an administrator, as the CRM or a coach's office would through the API.
DEMO = Caller(token_id=0, name="demo", role=Role.admin)


@dataclass(frozen=True)
class DemoClient:
    name: str
    headcount: int
    timezone: str
    phase: str
    days_in_phase: int
    playbook: str = "standard"
    foundations: bool = False
    pilots: tuple[str, ...] = ()
    # Criteria (ids) of the gate out of ``phase`` deliberately left unmet, and meeting outcomes not yet
    # recorded in this phase: the typical problems a coach meets.
    pending: tuple[str, ...] = ()
    missing_outcomes: tuple[str, ...] = ()
    # The tasks of ``phase`` already due were done two days ago (a client on track); else they are left open.
    tasks_kept: bool = False


CLIENTS = (
    DemoClient("Formosa Bikes", 120, "Asia/Taipei", "coach_engaged", 3),
    DemoClient("Keelung Logistics", 340, "Asia/Taipei", "executive_meeting", 12,
               missing_outcomes=("expectations_set",)),
    DemoClient("Tainan Tea Co.", 55, "Asia/Taipei", "kickoff", 9, foundations=True, pilots=("Sales",)),
    DemoClient("Hsinchu Semiconductors", 900, "Asia/Taipei", "kickoff", 20, foundations=False,
               pilots=("Engineering",), missing_outcomes=("foundations_agreed",)),
    DemoClient("Alishan Software", 80, "Asia/Taipei", "pilot_training", 4, foundations=True,
               pilots=("Engineering", "Product"), pending=("training",)),
    DemoClient("Nordic Outdoor AB", 210, "Europe/Stockholm", "pilot_drafting", 15, foundations=True,
               pilots=("Marketing",), pending=("drafting_duration",)),
    DemoClient("Lisbon Health", 150, "Europe/Lisbon", "coaches_appointed", 6, foundations=True,
               pilots=("Operations",), pending=("q1_members_own_okrs", "okr_master_appointed")),
    DemoClient("Austin Robotics", 75, "America/Chicago", "q1_cycle", 40, foundations=True,
               pilots=("Engineering", "Support"), pending=("q1_check_ins",)),
    DemoClient("Osaka Foods", 430, "Asia/Tokyo", "quarter_review", 8, foundations=True, pilots=("Sales",),
               pending=("q1_decided",)),
    DemoClient("Cape Town Finance", 260, "Africa/Johannesburg", "q2_cycle", 26, foundations=True,
               pilots=("Finance", "Risk"), tasks_kept=True),
    DemoClient("Melbourne Design", 95, "Australia/Melbourne", "culture", 60, foundations=True,
               pilots=("Studio",), pending=("ceo_full_support",)),
    DemoClient("Tiny Studio", 5, "Asia/Taipei", "q1_cycle", 10, playbook="small_company", foundations=True),
    DemoClient("Two Founders Ltd", 2, "Europe/London", "coach_engaged", 1, playbook="small_company"),
)

_DEPARTMENTS = ("Sales", "Engineering", "Product", "Marketing", "Operations", "Support", "Finance", "Risk",
                "Studio", "People")


def load_demo(session: Session, catalog: Catalog, now: datetime) -> str:
    """Create the demo portfolio (once) and return a fresh admin token."""
    if session.scalar(organization_queries.organization_with_crm_id("demo-0")) is None:
        _create_portfolio(session, catalog, now)
    raw, _ = create_token(session, role=Role.admin, name="demo-admin")
    return raw


def demo_logins(session: Session, now: datetime) -> list[tuple[str, str]]:
    """Sign-ins for the pages: the two demo coaches and an administrator, each with a new password (shown once)."""
    from okr_rollout.users import queries as user_queries
    from okr_rollout.users.service import create_user, normalize_email, set_password

    coaches = list(session.scalars(organization_queries.external_coaches()))
    wanted: list[tuple[str, Role, int | None]] = [("admin@coaching.example", Role.admin, None)]
    wanted += [(coach.email or "", Role.coach, coach.id) for coach in coaches]
    logins = []
    for email, role, person_id in wanted:
        password = secrets.token_urlsafe(12)
        user = session.scalar(user_queries.user_with_email(normalize_email(email)))
        if user is None:
            create_user(session, email=email, role=role, password=password, person_id=person_id, now=now)
        else:
            set_password(session, user, password)
        logins.append((email, password))
    session.flush()
    return logins


@dataclass(frozen=True)
class ClientAccess:
    """How to try the pages as the client: an internal coach's sign-in, and a pilot member's sign-in link."""

    internal_coach: tuple[str, str, str] | None  # (name, e-mail, password)
    member_link: tuple[str, str, str] | None  # (name, organization, link)


def demo_client_access(session: Session, settings: Settings, now: datetime) -> ClientAccess:
    """A login (new password, shown once) for an internal coach the demo appointed, and a sign-in link for a
    pilot member who owns an OKR of a quarter under way (made now; only its hash is kept)."""
    from sqlalchemy import select

    from okr_rollout.clients import links
    from okr_rollout.models import Appointment, Engagement, Okr, Organization, Quarter, User
    from okr_rollout.users.service import create_user, set_password

    internal = None
    appointed = session.execute(
        select(Person, Organization.name).join(Appointment, Appointment.person_id == Person.id)
        .join(Organization, Organization.id == Person.organization_id)
        .where(Appointment.role == "internal_coach", Appointment.voided_at.is_(None))
        .order_by(Appointment.id).limit(1)).first()
    if appointed is not None:
        person, organization = appointed
        email = f"{person.name.split()[0].lower()}.internal@{_slug(organization)}.example"
        password = secrets.token_urlsafe(12)
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            create_user(session, email=email, role=Role.internal_coach, password=password, person_id=person.id,
                        now=now)
        else:
            set_password(session, user, password)
        internal = (person.name, email, password)
    member = None
    owner = session.execute(
        select(Okr.owner_id, Okr.engagement_id, Organization.name)
        .join(Quarter, Quarter.id == Okr.quarter_id).join(Engagement, Engagement.id == Okr.engagement_id)
        .join(Organization, Organization.id == Engagement.organization_id)
        .where(Okr.owner_id.is_not(None), Okr.voided_at.is_(None), Quarter.closed_at.is_(None),
               Engagement.phase == "q1_cycle")
        .order_by(Okr.id).limit(1)).first()
    if owner is not None and owner[0] is not None:
        issued = links.issue_link(session, DEMO, settings, owner[1], owner[0], now, send_email=False)
        member = (issued.person.name, owner[2], issued.url)
    return ClientAccess(internal, member)


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum()) or "client"


def _create_portfolio(session: Session, catalog: Catalog, now: datetime) -> None:
    # The firm's coaches work for no client organization: the API has no way to add them, so they are added here.
    coaches = [Person(name=name, email=f"{name.split()[0].lower()}@coaching.example", roles=["coach"],
                      created_at=now) for name in ("Mei Chen", "David Lin")]
    session.add_all(coaches)
    session.flush()
    for index, client in enumerate(CLIENTS):
        playbook = catalog.current(client.playbook)
        entered = now - timedelta(days=client.days_in_phase)
        began = timeline(playbook, client.phase, entered)[playbook.spec.start_phase]
        organization_id, people, departments = _create_organization(session, index, client, began)
        coach = coaches[index % 2]
        engagement = engagements.create_engagement(session, DEMO, catalog, EngagementCreate(
            organization_id=organization_id, playbook=playbook.id, playbook_version=playbook.version,
            coach_ids=[coach.id]), began)
        cast = _cast(coach.id, people, departments, whole_company=not departments)
        walk_journey(session, DEMO, catalog, engagement, cast, phase=client.phase, entered=entered,
                     pending=client.pending, missing_outcomes=client.missing_outcomes, now=now)
        if client.tasks_kept:
            done_at = now - timedelta(days=2)
            for task in list(session.scalars(engagement_queries.open_tasks(engagement.id)).unique()):
                if task.due_at <= done_at:
                    engagement_tasks.update_task(session, DEMO, task, TaskUpdate(done=True), done_at)
    session.flush()


def _create_organization(session: Session, index: int, client: DemoClient, began: datetime
                         ) -> tuple[int, list[PersonOut], list[Department]]:
    foundations = {"mission": f"Why {client.name} exists: to serve its customers better every year.",
                   "vision_1y": "Lead our region", "vision_5y": "Lead our market",
                   "vision_10y": "A name the world knows",
                   "strategies": ["Focus on fewer products", "Grow through partners"]} if client.foundations else {}
    organization = organizations.create_organization(session, DEMO, OrganizationCreate(
        name=client.name, headcount=client.headcount, timezone=client.timezone, crm_id=f"demo-{index}",
        challenges=["Priorities scattered across teams"], **foundations), began)
    departments: list[Department] = []
    if client.playbook == "standard":
        names = list(_DEPARTMENTS[: 3 + index % 4])
        names += [name for name in client.pilots if name not in names]
        departments = [organizations.create_department(session, DEMO, organization.id, DepartmentCreate(
            name=name, is_pilot=name in client.pilots), began) for name in names]
    people_count = min(client.headcount, 4 + len(departments) * 4)
    roles = ["ceo"] + ["department_lead"] * len(departments) + ["member"] * people_count
    people = []
    for n in range(people_count):
        # Everyone but the CEO belongs to a department, in turn; the first person of each department heads it.
        membership = [departments[(n - 1) % len(departments)].id] if departments and n else []
        people.append(organizations.create_person(session, DEMO, organization.id, PersonCreate(
            name=_person_name(index, n), roles=[roles[n] if n < len(roles) else "member"],
            department_ids=membership), began))
    for department, lead in zip(departments, people[1:], strict=False):
        organizations.update_department(session, DEMO, organization.id, department.id,
                                        DepartmentUpdate(lead_id=lead.id), began, if_match=lambda _: None)
    return organization.id, people, departments


# The demo's people have names, as a client's do: the pages and the gates' reasons show them.
_GIVEN_NAMES = ("Mei", "Jun", "Ana", "Kai", "Lena", "Omar", "Yuki", "Chen", "Sara", "Tomas", "Ines", "Hiro", "Nadia",
                "Wei", "Lucas", "Priya", "Ming", "Elena", "Kofi", "Aiko", "Jonas", "Ling", "Marta", "Ravi", "Hana",
                "Pedro", "Yan", "Zoe", "Ivan", "Nora")
_SURNAMES = ("Lin", "Wang", "Silva", "Sato", "Berg", "Okafor", "Chang", "Costa", "Tanaka", "Huang", "Nilsson", "Wu")


def _person_name(client_index: int, n: int) -> str:
    """A name unique within its organization (at most as many people as given names) and varied across them."""
    given = _GIVEN_NAMES[(n + client_index * 7) % len(_GIVEN_NAMES)]
    return f"{given} {_SURNAMES[(n + client_index) % len(_SURNAMES)]}"


def _cast(coach_id: int, people: list[PersonOut], departments: list[Department], *, whole_company: bool) -> Cast:
    """Who takes part in the history: in a whole-company rollout everyone, led by the CEO; otherwise the
    pilot departments' people, each department's head first."""
    ceo, staff = people[0], people[1:]
    if whole_company:
        pilot: tuple[tuple[int | None, tuple[int, ...]], ...] = ((None, tuple(p.id for p in people)),)
    else:
        members = {d.id: [p.id for n, p in enumerate(staff) if departments[n % len(departments)] is d]
                   for d in departments}
        pilot = tuple((d.id, tuple(members[d.id])) for d in departments if d.is_pilot and members[d.id])
    in_pilot = {person for _, group in pilot for person in group}
    return Cast(coach_id=coach_id, ceo_id=ceo.id, heads=tuple(d.lead_id for d in departments if d.lead_id),
                pilot=pilot, others=tuple(p.id for p in staff if p.id not in in_pilot))
