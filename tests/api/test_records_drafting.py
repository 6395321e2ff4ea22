"""Drafting groups over HTTP: validation, PATCH with If-Match, events, the appoint_internal_coaches gate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api._helpers import assert_problem, event_types
from tests.api._records import (
    Client,
    client_organization,
    create,
    criterion,
    events,
    foreign_person,
    listed,
    patch,
    place_in_phase,
    post,
    refused,
)
from tests.conftest import Clock, Tokens


def group(member_ids: list[int], **fields: Any) -> dict[str, Any]:
    return {"member_ids": member_ids, "started_on": "2026-01-05", **fields}


def drafting(client: TestClient, tokens: Tokens, db: Callable[[], Session], now: datetime) -> Client:
    org = client_organization(client, tokens, pilot_members=6)
    place_in_phase(db, org.engagement_id, "pilot_drafting", now)
    return org


def assert_nothing_written(client: TestClient, tokens: Tokens, org: Client, events_before: list[str]) -> None:
    assert listed(client, tokens.coach, org.engagement_id, "drafting-groups") == []
    assert event_types(client, tokens.admin, org.engagement_id) == events_before


def test_drafting_group_is_recorded_with_one_event(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)

    response = post(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                    group(org.pilot_ids[:3], department_id=org.pilot_department_id))

    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"v1"'
    created = response.json()
    assert created["member_ids"] == org.pilot_ids[:3]
    assert created["department_id"] == org.pilot_department_id
    assert (created["started_on"], created["ended_on"]) == ("2026-01-05", None)
    assert created["warnings"] == []
    assert created["version"] == 1
    assert listed(app_client, tokens.coach, org.engagement_id, "drafting-groups") == [created]
    assert event_types(app_client, tokens.admin, org.engagement_id) == [*before, "drafting_group.recorded"]
    payload = events(app_client, tokens.admin, org.engagement_id)[-1]["payload"]
    assert payload["drafting_group_id"] == created["id"]
    assert payload["members"] == 3


def test_group_outside_three_to_five_members_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens, pilot_members=6)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    for members in (org.pilot_ids[:2], org.pilot_ids[:6]):
        problem = refused(post(app_client, tokens.coach, org.engagement_id, "drafting-groups", group(members)),
                          ("body.member_ids", "group_size"))
        assert str(len(members)) in problem["errors"][0]["message"]
    assert_nothing_written(app_client, tokens, org, before)
    # The bounds themselves are fine.
    create(app_client, tokens.coach, org.engagement_id, "drafting-groups", group(org.pilot_ids[:5]))


def test_member_of_another_organization_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    stranger = foreign_person(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                    group([*org.pilot_ids[:2], stranger]))
    refused(response, ("body.member_ids[2]", "foreign_organization"))
    # The external coach drafts with the group but is not one of its members.
    response = post(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                    group([*org.pilot_ids[:2], tokens.coach_person_id]))
    refused(response, ("body.member_ids[2]", "foreign_organization"))
    assert_nothing_written(app_client, tokens, org, before)


def test_duplicate_member_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                    group([org.pilot_ids[0], org.pilot_ids[1], org.pilot_ids[0]]))
    refused(response, ("body.member_ids[2]", "duplicate"))
    assert_nothing_written(app_client, tokens, org, before)


def test_dates_in_the_future_or_ending_before_the_start_are_refused(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    clock.advance(days=10)  # today is 2026-01-15
    before = event_types(app_client, tokens.admin, org.engagement_id)
    members = org.pilot_ids[:3]
    refused(post(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                 group(members, started_on="2026-01-16")), ("body.started_on", "future_date"))
    refused(post(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                 group(members, ended_on="2026-01-16")), ("body.ended_on", "future_date"))
    refused(post(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                 group(members, started_on="2026-01-10", ended_on="2026-01-09")),
            ("body.ended_on", "ends_before_start"))
    refused(post(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                 group(members, department_id=client_organization(app_client, tokens).pilot_department_id)),
            ("body.department_id", "foreign_organization"))
    assert_nothing_written(app_client, tokens, org, before)


def test_patch_ends_the_group_with_if_match_and_a_stale_etag_is_412(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    created = create(app_client, tokens.coach, org.engagement_id, "drafting-groups", group(org.pilot_ids[:3]))
    path = f"{org.base}/drafting-groups/{created['id']}"
    clock.advance(days=14)
    before = event_types(app_client, tokens.admin, org.engagement_id)

    response = patch(app_client, tokens.coach, path, {"ended_on": "2026-01-19"}, **{"If-Match": '"v1"'})

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    updated = response.json()
    assert (updated["ended_on"], updated["version"]) == ("2026-01-19", 2)
    assert updated["member_ids"] == org.pilot_ids[:3]
    assert event_types(app_client, tokens.admin, org.engagement_id) == [
        *before, "drafting_group.updated", "record.corrected"]
    assert events(app_client, tokens.admin, org.engagement_id)[-1]["payload"]["changed"] == ["ended_on"]

    stale = patch(app_client, tokens.coach, path, {"member_ids": org.pilot_ids[:4]}, **{"If-Match": '"v1"'})
    assert_problem(stale, 412, slug="precondition-failed")
    [stored] = listed(app_client, tokens.coach, org.engagement_id, "drafting-groups")
    assert (stored["member_ids"], stored["version"]) == (org.pilot_ids[:3], 2)
    assert event_types(app_client, tokens.admin, org.engagement_id) == [
        *before, "drafting_group.updated", "record.corrected"]


def test_patch_is_validated_like_a_new_group_and_writes_nothing_when_refused(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens, pilot_members=6)
    clock.advance(days=3)  # today is 2026-01-08
    created = create(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                     group(org.pilot_ids[:3], started_on="2026-01-06"))
    path = f"{org.base}/drafting-groups/{created['id']}"
    before = event_types(app_client, tokens.admin, org.engagement_id)
    stranger = foreign_person(app_client, tokens)

    refused(patch(app_client, tokens.coach, path, {"ended_on": "2026-01-05"}), ("body.ended_on", "ends_before_start"))
    refused(patch(app_client, tokens.coach, path, {"ended_on": "2026-01-09"}), ("body.ended_on", "future_date"))
    refused(patch(app_client, tokens.coach, path, {"member_ids": org.pilot_ids}), ("body.member_ids", "group_size"))
    refused(patch(app_client, tokens.coach, path, {"member_ids": [*org.pilot_ids[:2], stranger]}),
            ("body.member_ids[2]", "foreign_organization"))
    refused(patch(app_client, tokens.coach, path, {"member_ids": None}), ("body.member_ids", "null"))
    refused(patch(app_client, tokens.coach, path, {"started_on": "2026-01-09"}), ("body.started_on", "future_date"))
    refused(patch(app_client, tokens.coach, path, {"started_on": None}), ("body.started_on", "null"))
    refused(patch(app_client, tokens.coach, path, {"department_id": 99999}),
            ("body.department_id", "foreign_organization"))
    refused(patch(app_client, tokens.coach, path, {"created_at": "2026-01-01"}), ("body.created_at", "extra_forbidden"))

    assert listed(app_client, tokens.coach, org.engagement_id, "drafting-groups") == [
        {**created, "warnings": []}]
    assert event_types(app_client, tokens.admin, org.engagement_id) == before


def test_patch_that_changes_nothing_appends_no_event(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    created = create(app_client, tokens.coach, org.engagement_id, "drafting-groups", group(org.pilot_ids[:3]))
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = patch(app_client, tokens.coach, f"{org.base}/drafting-groups/{created['id']}",
                     {"member_ids": org.pilot_ids[:3]})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v1"'
    assert event_types(app_client, tokens.admin, org.engagement_id) == before


def test_patch_of_another_engagements_group_is_404(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    other = client_organization(app_client, tokens)
    created = create(app_client, tokens.coach, other.engagement_id, "drafting-groups", group(other.pilot_ids[:3]))
    response = patch(app_client, tokens.coach, f"{org.base}/drafting-groups/{created['id']}",
                     {"ended_on": "2026-01-05"})
    assert_problem(response, 404, slug="not-found")


def test_groups_covering_every_pilot_member_open_the_drafting_groups_criterion(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    org = drafting(app_client, tokens, db, clock.now)
    nothing = criterion(app_client, tokens.coach, org.engagement_id, "appoint_internal_coaches", "drafting_groups")
    assert nothing["passed"] is False
    assert nothing["evidence"]["pilot_people_without_group"] == sorted(org.pilot_ids)

    first = create(app_client, tokens.coach, org.engagement_id, "drafting-groups", group(org.pilot_ids[:3]))
    half = criterion(app_client, tokens.coach, org.engagement_id, "appoint_internal_coaches", "drafting_groups")
    assert half["passed"] is False
    assert half["evidence"]["group_sizes"] == {str(first["id"]): 3}
    assert half["evidence"]["pilot_people_without_group"] == sorted(org.pilot_ids[3:])
    assert (half["evidence"]["min_size"], half["evidence"]["max_size"]) == (3, 5)

    second = create(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                    group([*org.pilot_ids[3:5], org.other_ids[0]]))
    one_left = criterion(app_client, tokens.coach, org.engagement_id, "appoint_internal_coaches", "drafting_groups")
    assert one_left["evidence"]["pilot_people_without_group"] == [org.pilot_ids[5]]

    # Growing the second group to take the last pilot member opens it.
    response = patch(app_client, tokens.coach, f"{org.base}/drafting-groups/{second['id']}",
                     {"member_ids": [*org.pilot_ids[3:], org.other_ids[0]]}, **{"If-Match": '"v1"'})
    assert response.status_code == 200, response.text
    covered = criterion(app_client, tokens.coach, org.engagement_id, "appoint_internal_coaches", "drafting_groups")
    assert covered["passed"] is True
    assert covered["evidence"]["group_sizes"] == {str(first["id"]): 3, str(second["id"]): 4}
    assert covered["evidence"]["groups_off_size"] == []
    assert covered["evidence"]["pilot_people_without_group"] == []


def test_ending_the_groups_after_two_weeks_meets_the_drafting_duration(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    org = drafting(app_client, tokens, db, clock.now)
    first = create(app_client, tokens.coach, org.engagement_id, "drafting-groups", group(org.pilot_ids[:3]))
    second = create(app_client, tokens.coach, org.engagement_id, "drafting-groups", group(org.pilot_ids[3:]))
    clock.advance(days=16)  # 2026-01-21
    open_groups = criterion(app_client, tokens.coach, org.engagement_id, "appoint_internal_coaches",
                            "drafting_duration")
    assert open_groups["passed"] is False
    assert open_groups["evidence"]["open_groups"] == [first["id"], second["id"]]
    assert open_groups["evidence"]["days_so_far"] == 16

    patch(app_client, tokens.coach, f"{org.base}/drafting-groups/{first['id']}", {"ended_on": "2026-01-12"})
    patch(app_client, tokens.coach, f"{org.base}/drafting-groups/{second['id']}", {"ended_on": "2026-01-19"})
    ended = criterion(app_client, tokens.coach, org.engagement_id, "appoint_internal_coaches", "drafting_duration")
    assert ended["passed"] is True
    assert ended["evidence"] == {"min_weeks": 2, "max_weeks": 3, "started_on": "2026-01-05", "open_groups": [],
                                 "ended_on": "2026-01-19", "days": 14}
