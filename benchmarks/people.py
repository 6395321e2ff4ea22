"""The people picker's search for a 3,000-person client: what the pages answer as one types a name (visibility,
the search, the rows as objects) vs. the same LIKE statement read as plain rows on the session's connection."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select, text

from benchmarks.cases import BENCH, Result, _best_of
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import Engagement, Organization, Person
from okr_rollout.portfolio import engagement as engagement_views
from okr_rollout.portfolio import queries

CLIENT_SIZE = 3000
TYPED = ("e", "em", "emp", "employee 1", "employee 12", "employee 123", "employee 1234")  # one key at a time


def people_search(engine: Engine, playbook_sha256: str, playbook_version: int) -> Result:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(make_session_factory(engine)) as session:
        # Ids past the seeder's: it writes its own ids, which PostgreSQL's sequences do not know of.
        def next_id(model: type[Organization] | type[Person] | type[Engagement]) -> int:
            return int(session.scalar(select(func.max(model.id))) or 0) + 1

        organization_id, first_person, engagement_id = next_id(Organization), next_id(Person), next_id(Engagement)
        session.execute(insert(Organization), [{"id": organization_id, "name": "Big Client",
                                                "headcount": CLIENT_SIZE, "timezone": "UTC", "strategies": [],
                                                "challenges": [], "created_at": created, "updated_at": created,
                                                "version": 1}])
        session.execute(insert(Person), [{"id": first_person + n, "organization_id": organization_id,
                                          "name": f"Employee {n:04d}", "roles": ["member"], "locale": "en",
                                          "created_at": created, "version": 1} for n in range(CLIENT_SIZE)])
        session.execute(insert(Engagement), [{"id": engagement_id, "organization_id": organization_id,
                                              "playbook_id": "standard", "playbook_version": playbook_version,
                                              "playbook_sha256": playbook_sha256, "phase": "kickoff",
                                              "entered_phase_at": created, "created_at": created,
                                              "updated_at": created, "version": 1}])
    factory = make_session_factory(engine)
    statements = {typed: str(queries.people_matching(organization_id, engagement_id, typed, 11).compile(
        engine, compile_kwargs={"literal_binds": True})) for typed in TYPED}

    def search() -> None:
        with factory() as session:
            for typed in TYPED:
                engagement_views.search_people(session, BENCH, engagement_id, typed, 10, with_coaches=True)

    def raw() -> None:
        with engine.connect() as connection:
            for typed in TYPED:
                connection.execute(text(statements[typed])).all()

    baseline = _best_of(5, raw)
    return Result(_best_of(5, search), baseline, "<3x", "s per 7 keystrokes")
