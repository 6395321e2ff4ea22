"""The one visibility rule (``engagement_visibility``) as every kind of caller meets it through the API: reading an
engagement, listing engagements, and firing a transition."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.models import Person
from tests.api._helpers import assert_problem, collect_pages, create_engagement, create_organization
from tests.conftest import Tokens, auth


def test_every_kind_of_caller_sees_exactly_the_engagements_the_rule_gives_them(
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

    expected = {
        tokens.admin: set(engagements), tokens.integration: set(engagements),
        tokens.coach: {engagements[1], engagements[2]}, tokens.other_coach: {engagements[2], engagements[3]},
        idle_token: set(), internal[first]: set(engagements[:3]), internal[second]: set(engagements[3:]),
    }

    for token in callers:
        read = set()
        for engagement_id in engagements:
            response = app_client.get(f"/api/v1/engagements/{engagement_id}", headers=auth(token))
            if response.status_code == 200:
                assert response.json()["id"] == engagement_id
                read.add(engagement_id)
            else:
                assert_problem(response, 404, slug="not-found")
        listed = {e["id"] for e in collect_pages(app_client, token, "/api/v1/engagements")}
        assert read == listed == expected[token], token
        # A transition finds only what its caller sees: the rest is 404 before any gate is asked (an unknown
        # trigger on a visible engagement is 422; an integration without the scope is told so, 403; an internal
        # coach, who may read but never move it, finds nothing to act on, 404).
        for engagement_id in engagements:
            response = app_client.post(f"/api/v1/engagements/{engagement_id}/transitions",
                                       json={"trigger": "no_such_trigger"}, headers=auth(token))
            if engagement_id in expected[token] and token in (tokens.admin, tokens.coach, tokens.other_coach):
                assert_problem(response, 422)
            elif engagement_id in expected[token] and token == tokens.integration:
                assert_problem(response, 403, slug="forbidden")
            else:
                assert_problem(response, 404, slug="not-found")


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
