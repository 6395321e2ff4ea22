"""CEO support over HTTP: statements, valid_until and faded as the clock advances, the ceo_backing gate."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api._helpers import event_types, fire
from tests.api._records import client_organization, create, criterion, events, listed, post, refused
from tests.conftest import Clock, Tokens


def test_statement_is_valid_for_90_days_then_fades(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)

    response = post(app_client, tokens.coach, org.engagement_id, "ceo-support",
                    {"level": "full", "stated_on": "2026-01-05", "note": "Said so at the offsite"})

    assert response.status_code == 201, response.text
    statement = response.json()
    assert statement["level"] == "full"
    assert statement["stated_on"] == "2026-01-05"
    assert statement["note"] == "Said so at the offsite"
    assert statement["valid_until"] == "2026-04-05"
    assert statement["faded"] is False
    assert event_types(app_client, tokens.admin, org.engagement_id) == [*before, "ceo_support.stated"]
    payload = events(app_client, tokens.admin, org.engagement_id)[-1]["payload"]
    assert payload == {"statement_id": statement["id"], "level": "full", "stated_on": "2026-01-05"}

    clock.advance(days=90)  # 2026-04-05: the last day it counts
    [listed_statement] = listed(app_client, tokens.coach, org.engagement_id, "ceo-support")
    assert (listed_statement["valid_until"], listed_statement["faded"]) == ("2026-04-05", False)

    clock.advance(days=1)
    [listed_statement] = listed(app_client, tokens.coach, org.engagement_id, "ceo-support")
    assert (listed_statement["valid_until"], listed_statement["faded"]) == ("2026-04-05", True)


def test_backdated_statement_older_than_90_days_is_faded_at_once(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    statement = create(app_client, tokens.coach, org.engagement_id, "ceo-support",
                       {"level": "partial", "stated_on": "2025-10-01"})
    assert statement["valid_until"] == "2025-12-30"
    assert statement["faded"] is True


def test_statement_dated_in_the_future_is_refused(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    body = {"level": "full", "stated_on": "2026-01-06"}

    refused(post(app_client, tokens.coach, org.engagement_id, "ceo-support", body), ("body.stated_on", "future_date"))
    assert listed(app_client, tokens.coach, org.engagement_id, "ceo-support") == []
    assert event_types(app_client, tokens.admin, org.engagement_id) == before

    clock.advance(days=1)
    assert post(app_client, tokens.coach, org.engagement_id, "ceo-support", body).status_code == 201


def test_unknown_support_level_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    response = post(app_client, tokens.coach, org.engagement_id, "ceo-support",
                    {"level": "enthusiastic", "stated_on": "2026-01-05"})
    refused(response, ("body.level", "literal_error"))
    assert listed(app_client, tokens.coach, org.engagement_id, "ceo-support") == []


def test_ceo_backing_opens_with_support_and_closes_once_it_is_older_than_90_days(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    assert fire(app_client, tokens.coach, org.engagement_id, "schedule_executive_meeting").status_code == 200

    nothing = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")
    assert nothing["passed"] is False
    assert nothing["evidence"] == {"required_level": "partial", "max_age_days": 90}

    create(app_client, tokens.coach, org.engagement_id, "ceo-support", {"level": "partial", "stated_on": "2026-01-05"})
    backed = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")
    assert backed["passed"] is True
    assert backed["evidence"] == {"level": "partial", "required_level": "partial", "stated_on": "2026-01-05",
                                  "age_days": 0, "max_age_days": 90}

    clock.advance(days=90)
    still = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")
    assert (still["passed"], still["evidence"]["age_days"]) == (True, 90)

    clock.advance(days=1)
    faded = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")
    assert (faded["passed"], faded["evidence"]["age_days"]) == (False, 91)

    # Confirming it again reopens the gate.
    create(app_client, tokens.coach, org.engagement_id, "ceo-support", {"level": "partial", "stated_on": "2026-04-06"})
    again = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")
    assert again["passed"] is True
    assert again["evidence"]["stated_on"] == "2026-04-06"


def test_ceo_backing_needs_at_least_partial_support(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    assert fire(app_client, tokens.coach, org.engagement_id, "schedule_executive_meeting").status_code == 200
    create(app_client, tokens.coach, org.engagement_id, "ceo-support", {"level": "none", "stated_on": "2026-01-05"})
    result = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")
    assert result["passed"] is False
    assert (result["evidence"]["level"], result["evidence"]["required_level"]) == ("none", "partial")


def test_ceo_backing_reads_the_latest_statement_by_date_not_by_entry(
    app_client: TestClient, tokens: Tokens
) -> None:
    org = client_organization(app_client, tokens)
    assert fire(app_client, tokens.coach, org.engagement_id, "schedule_executive_meeting").status_code == 200
    create(app_client, tokens.coach, org.engagement_id, "ceo-support", {"level": "partial", "stated_on": "2026-01-04"})
    # Entered later, but a statement of an earlier day (a backfill): it does not override.
    create(app_client, tokens.coach, org.engagement_id, "ceo-support", {"level": "none", "stated_on": "2025-12-20"})
    result = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")
    assert result["passed"] is True
    assert (result["evidence"]["level"], result["evidence"]["stated_on"]) == ("partial", "2026-01-04")


def test_support_withdrawn_later_the_same_day_closes_ceo_backing(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    assert fire(app_client, tokens.coach, org.engagement_id, "schedule_executive_meeting").status_code == 200
    create(app_client, tokens.coach, org.engagement_id, "ceo-support", {"level": "full", "stated_on": "2026-01-05"})
    create(app_client, tokens.coach, org.engagement_id, "ceo-support",
           {"level": "none", "stated_on": "2026-01-05", "note": "Changed their mind after lunch"})
    result = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")
    assert result["passed"] is False
    assert result["evidence"]["level"] == "none"


def test_hold_kickoff_fires_once_meetings_and_support_are_recorded(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    assert fire(app_client, tokens.coach, org.engagement_id, "schedule_executive_meeting").status_code == 200
    clock.advance(days=3)
    create(app_client, tokens.coach, org.engagement_id, "meetings",
           {"kind": "executive", "held_at": "2026-01-08T08:00:00Z", "attendee_ids": [org.ceo_id],
            "outcomes": ["ceo_support", "okrs_introduced", "expectations_set"]})
    create(app_client, tokens.coach, org.engagement_id, "ceo-support", {"level": "full", "stated_on": "2026-01-08"})

    response = fire(app_client, tokens.coach, org.engagement_id, "hold_kickoff")

    assert response.status_code == 200, response.text
    assert response.json()["engagement"]["phase"] == "kickoff"
    assert {c["id"]: c["passed"] for c in response.json()["readiness"]["criteria"]} == {
        "executive_outcomes": True, "ceo_backing": True}
