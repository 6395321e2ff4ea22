"""Records under the small_company playbook: its own meeting outcomes, and the whole company as the pilot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api._helpers import create_engagement, create_organization, event_types, fire
from tests.api._records import MODULES, add_person, create, criterion, listed, place_in_phase, post, refused
from tests.conftest import Clock, Tokens


@dataclass(frozen=True)
class SmallCompany:
    engagement_id: int
    people: list[int]  # the CEO first, then four members; no departments


def small_company(client: TestClient, tokens: Tokens) -> SmallCompany:
    organization = create_organization(client, tokens.admin, headcount=5)
    ceo = add_person(client, tokens.admin, organization["id"], name="Founder", roles=["ceo"])
    members = [add_person(client, tokens.admin, organization["id"], name=f"Member {i}") for i in range(4)]
    engagement = create_engagement(client, tokens.admin, organization["id"], playbook="small_company",
                                   coach_ids=[tokens.coach_person_id])
    assert engagement["playbook"]["id"] == "small_company"
    return SmallCompany(engagement["id"], [ceo, *members])


def test_kickoff_outcome_of_the_standard_playbook_is_unknown_to_the_small_company_playbook(
    app_client: TestClient, tokens: Tokens
) -> None:
    company = small_company(app_client, tokens)
    before = event_types(app_client, tokens.admin, company.engagement_id)
    kickoff = {"kind": "kickoff", "held_at": "2026-01-05T08:00:00Z", "attendee_ids": company.people,
               "outcomes": ["foundations_agreed", "pilot_leads_committed"]}

    # There is no pilot to commit to: the whole company adopts OKRs at once.
    refused(post(app_client, tokens.coach, company.engagement_id, "meetings", kickoff),
            ("body.outcomes[1]", "unknown_outcome"))
    assert listed(app_client, tokens.coach, company.engagement_id, "meetings") == []
    assert event_types(app_client, tokens.admin, company.engagement_id) == before

    created = create(app_client, tokens.coach, company.engagement_id, "meetings",
                     {**kickoff, "outcomes": ["foundations_agreed"]})
    assert created["outcomes"] == ["foundations_agreed"]


def test_the_whole_company_is_trained_before_drafting_starts(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    company = small_company(app_client, tokens)
    place_in_phase(db, company.engagement_id, "company_training", clock.now)

    create(app_client, tokens.coach, company.engagement_id, "training-sessions",
           {"held_on": "2026-01-05", "hours": 18, "modules": MODULES, "attendee_ids": company.people[:3]})
    three_of_five = criterion(app_client, tokens.coach, company.engagement_id, "start_drafting", "training")
    assert three_of_five["passed"] is False
    assert three_of_five["evidence"]["pilot_people"] == 5  # everyone, with no pilot department chosen
    assert three_of_five["evidence"]["fully_trained"] == 3

    create(app_client, tokens.coach, company.engagement_id, "training-sessions",
           {"held_on": "2026-01-05", "hours": 2, "modules": MODULES, "attendee_ids": company.people[3:]})
    everyone = criterion(app_client, tokens.coach, company.engagement_id, "start_drafting", "training")
    assert everyone["passed"] is True
    assert (everyone["evidence"]["hours"], everyone["evidence"]["attendance_share"]) == (20, 1.0)
    moved = fire(app_client, tokens.coach, company.engagement_id, "start_drafting")
    assert moved.status_code == 200, moved.text
    assert moved.json()["engagement"]["phase"] == "okr_drafting"


def test_one_group_of_five_drafts_for_the_whole_company(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    company = small_company(app_client, tokens)
    place_in_phase(db, company.engagement_id, "okr_drafting", clock.now)

    create(app_client, tokens.coach, company.engagement_id, "drafting-groups",
           {"member_ids": company.people[1:], "started_on": "2026-01-05"})
    founder_left_out = criterion(app_client, tokens.coach, company.engagement_id, "appoint_okr_master",
                                 "drafting_groups")
    assert founder_left_out["passed"] is False
    assert founder_left_out["evidence"]["pilot_people_without_group"] == [company.people[0]]

    # The founder joins the group: five is the whole company.
    group = listed(app_client, tokens.coach, company.engagement_id, "drafting-groups")[0]
    response = app_client.patch(f"/api/v1/engagements/{company.engagement_id}/drafting-groups/{group['id']}",
                                json={"member_ids": company.people},
                                headers={"Authorization": f"Bearer {tokens.coach}", "If-Match": '"v1"'})
    assert response.status_code == 200, response.text
    whole = criterion(app_client, tokens.coach, company.engagement_id, "appoint_okr_master", "drafting_groups")
    assert whole["passed"] is True
    assert whole["evidence"]["pilot_people_without_group"] == []


def test_the_okr_master_is_required_to_start_q1_and_the_internal_coach_only_advised(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    company = small_company(app_client, tokens)
    place_in_phase(db, company.engagement_id, "coaches_appointed", clock.now)

    create(app_client, tokens.coach, company.engagement_id, "appointments",
           {"person_id": company.people[1], "role": "okr_master"})

    appointed = criterion(app_client, tokens.coach, company.engagement_id, "start_q1", "okr_master_appointed")
    assert appointed["passed"] is True
    assert appointed["severity"] == "blocking"
    advised = criterion(app_client, tokens.coach, company.engagement_id, "start_q1", "internal_coach_appointed")
    assert advised["passed"] is False
    assert advised["severity"] == "advisory"


def test_two_founders_draft_their_okrs_as_one_group_of_two(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    organization = create_organization(app_client, tokens.admin, headcount=2)
    founders = [add_person(app_client, tokens.admin, organization["id"], name=name) for name in ("林", "王")]
    engagement = create_engagement(app_client, tokens.admin, organization["id"], playbook="small_company",
                                   coach_ids=[tokens.coach_person_id])["id"]
    place_in_phase(db, engagement, "okr_drafting", clock.now)

    create(app_client, tokens.coach, engagement, "drafting-groups",
           {"member_ids": founders, "started_on": clock.now.date().isoformat()})

    result = criterion(app_client, tokens.coach, engagement, "appoint_okr_master", "drafting_groups")
    assert result["passed"] is True, result["reason"]
    assert result["evidence"]["min_size"] == 2
    refused(post(app_client, tokens.coach, engagement, "drafting-groups",
                 {"member_ids": founders[:1], "started_on": clock.now.date().isoformat()}),
            ("body.member_ids", "group_size"))
