"""One visibility rule in two forms: the SQL filter of every list and lookup (``engagement_visibility``) and the
Python check of ``GET /engagements/{id}``, which reads the token and the engagement together
(``sees_engagement``). Every kind of caller, every kind of engagement: both forms and the API agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import authenticate, create_token
from okr_rollout.auth.visibility import engagement_visibility, sees_engagement
from okr_rollout.models import Engagement, EngagementCoach, Person
from tests.api._helpers import assert_problem, create_engagement, create_organization
from tests.conftest import Tokens, auth


def test_every_caller_sees_the_same_engagements_in_sql_in_python_and_through_the_api(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session]
) -> None:
    first, second = (create_organization(app_client, tokens.admin)["id"] for _ in range(2))
    coach, other = tokens.coach_person_id, tokens.other_coach_person_id
    engagements = [create_engagement(app_client, tokens.admin, organization, coach_ids=coaches)["id"]
                   for organization, coaches in ((first, []), (first, [coach]), (first, [coach, other]),
                                                 (second, [other]), (second, []))]
    with db() as session:
        people = {organization: Person(name=f"Internal {organization}", roles=["internal_coach"],
                                       organization_id=organization, created_at=datetime.now(UTC))
                  for organization in (first, second)}
        idle = Person(name="Coach without engagements", roles=["coach"], created_at=datetime.now(UTC))
        session.add_all([*people.values(), idle])
        session.flush()
        internal = {organization: create_token(session, role=Role.internal_coach, person_id=person.id)[0]
                    for organization, person in people.items()}
        idle_token, _ = create_token(session, role=Role.coach, person_id=idle.id)
    callers = [tokens.admin, tokens.integration, tokens.coach, tokens.other_coach, idle_token, *internal.values()]

    seen_through_the_api: dict[str, set[int]] = {}
    with db() as session:
        coaches_of: dict[int, list[int]] = {}
        for engagement_id, person_id in session.execute(select(EngagementCoach.engagement_id,
                                                               EngagementCoach.person_id)):
            coaches_of.setdefault(engagement_id, []).append(person_id)
        organization_of = {engagement_id: organization_id for engagement_id, organization_id
                           in session.execute(select(Engagement.id, Engagement.organization_id))}
        for token in callers:
            caller = authenticate(session, token)
            assert caller is not None
            in_sql = set(session.scalars(select(Engagement.id).where(engagement_visibility(caller))))
            in_python = {e for e in engagements if sees_engagement(caller, organization_of[e], coaches_of.get(e, []))}
            assert in_python == in_sql, caller.name
            seen_through_the_api[token] = in_sql

    for token in callers:
        for engagement_id in engagements:
            response = app_client.get(f"/api/v1/engagements/{engagement_id}", headers=auth(token))
            if engagement_id in seen_through_the_api[token]:
                assert response.status_code == 200, response.text
                assert response.json()["id"] == engagement_id
            else:
                assert_problem(response, 404, slug="not-found")
    # what each kind of caller is meant to see, so that the agreement above is not an agreement on nothing
    assert seen_through_the_api[tokens.admin] == seen_through_the_api[tokens.integration] == set(engagements)
    assert seen_through_the_api[tokens.coach] == {engagements[1], engagements[2]}
    assert seen_through_the_api[tokens.other_coach] == {engagements[2], engagements[3]}
    assert seen_through_the_api[idle_token] == set()
    assert seen_through_the_api[internal[first]] == set(engagements[:3])
    assert seen_through_the_api[internal[second]] == set(engagements[3:])


def test_get_engagement_with_an_unknown_or_revoked_token_is_401_even_for_a_missing_engagement(
    app_client: TestClient, tokens: Tokens
) -> None:
    organization = create_organization(app_client, tokens.admin)["id"]
    engagement_id = create_engagement(app_client, tokens.admin, organization)["id"]
    for path in (f"/api/v1/engagements/{engagement_id}", "/api/v1/engagements/999999"):
        response = app_client.get(path, headers=auth("okr_unknown"))
        assert_problem(response, 401, slug="unauthorized")
        assert "id" not in response.json()
    assert_problem(app_client.get("/api/v1/engagements/999999", headers=auth(tokens.admin)), 404)
