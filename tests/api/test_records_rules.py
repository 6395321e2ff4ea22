"""What a record must obey, as the playbook declares it: a 1:1 has one lead (or coach) and exactly one other
person and counts only for that person; a key result's target differs from its start; an OKR has an owner or a
department, and a key result once its quarter has started (a warning or a refusal, as the playbook says). Every
refusal is a 422 naming the field and the rule, in English and Traditional Chinese."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.app import create_app
from okr_rollout.settings import Settings
from tests.api._imports import OKR_HEADER, csv_file, org_with_quarter, post_import, rejected_rows
from tests.api._records import Client, add_person, client_organization, create, place_in_phase, post, refused
from tests.conftest import ROOT, Clock, Tokens, auth

ZH = {"Accept-Language": "zh-TW"}


def with_lead(client: TestClient, tokens: Tokens, org: Client) -> int:
    """A lead of the pilot department, who is a member of it too."""
    lead = add_person(client, tokens.admin, org.organization_id, name="Sales Lead", roles=["department_lead"],
                      department_ids=[org.pilot_department_id])
    response = client.patch(f"/api/v1/organizations/{org.organization_id}/departments/{org.pilot_department_id}",
                            json={"lead_id": lead}, headers=auth(tokens.admin))
    assert response.status_code == 200, response.text
    return lead


def one_on_one(attendees: list[int], held_at: str = "2026-01-05T08:00:00Z") -> dict[str, Any]:
    return {"kind": "one_on_one", "held_at": held_at, "attendee_ids": attendees}


def test_a_one_on_one_has_one_lead_and_exactly_one_other_person(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    lead = with_lead(app_client, tokens, org)
    member, other = org.pilot_ids[:2]

    crowd = post(app_client, tokens.coach, org.engagement_id, "meetings", one_on_one([lead, *org.pilot_ids]))
    problem = refused(crowd, ("body.attendee_ids", "attendee_count"))
    assert problem["errors"][0]["message"] == (
        "a 1:1 meeting has one person leading it (the OKR coach or a department lead) and exactly 1 other "
        "attendee; 6 are listed")
    chinese = app_client.post(f"{org.base}/meetings", json=one_on_one([lead, *org.pilot_ids]),
                              headers=auth(tokens.coach, **ZH)).json()
    assert chinese["errors"][0]["message"] == (
        "一對一會議應由一人主持(OKR 教練或部門主管),另有恰好 1 位與會者;目前列出 6 人")
    refused(post(app_client, tokens.coach, org.engagement_id, "meetings", one_on_one([member, other])),
            ("body.attendee_ids", "attendee_leader"))

    led = create(app_client, tokens.coach, org.engagement_id, "meetings", one_on_one([member, lead]))
    assert led["counts_for_ids"] == [member]  # whatever the order, the lead leads
    coached = create(app_client, tokens.coach, org.engagement_id, "meetings",
                     one_on_one([lead, tokens.coach_person_id]))
    assert coached["counts_for_ids"] == [lead]  # the coach leads the lead's own 1:1
    team = create(app_client, tokens.coach, org.engagement_id, "meetings",
                  {"kind": "weekly_team", "held_at": "2026-01-05T08:00:00Z", "attendee_ids": [lead, member, other]})
    assert team["counts_for_ids"] is None  # no attendee rule: every attendee


def test_a_one_on_one_counts_only_for_the_person_led(
    app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Any]
) -> None:
    org = client_organization(app_client, tokens, pilot_members=2)
    lead = with_lead(app_client, tokens, org)
    member, other = org.pilot_ids
    quarter = create(app_client, tokens.coach, org.engagement_id, "quarters",
                     {"label": "Q1", "starts_on": "2026-01-05", "ends_on": "2026-03-29"})
    assert quarter["recorded_on"] is None
    place_in_phase(db, org.engagement_id, "q1_cycle", clock.now)
    clock.advance(days=15)
    create(app_client, tokens.coach, org.engagement_id, "meetings", one_on_one([lead, member], "2026-01-06T08:00:00Z"))
    create(app_client, tokens.coach, org.engagement_id, "meetings", one_on_one([lead, other], "2026-01-07T08:00:00Z"))

    report = app_client.get(f"{org.base}/readiness", headers=auth(tokens.coach)).json()
    gate = next(t for t in report["transitions"] if t["trigger"] == "end_q1")
    one_on_ones = next(c for c in gate["criteria"] if c["id"] == "q1_one_on_ones")
    # Two 1:1s held by the lead: one each for the two members, none for the lead.
    assert one_on_ones["evidence"]["held"] == {str(member): 1, str(other): 1, str(lead): 0}
    assert one_on_ones["evidence"]["behind"] == [str(lead)]
    assert "Sales Lead" in one_on_ones["reason"]


def test_a_key_result_moves_from_its_start(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    quarter = create(app_client, tokens.coach, org.engagement_id, "quarters",
                     {"label": "Q1", "starts_on": "2026-02-02", "ends_on": "2026-04-26"})
    body = {"objective": "Grow", "department_id": org.pilot_department_id,
            "key_results": [{"metric": "Leads", "start": 0, "target": 10},
                            {"metric": "Churn", "start": 5, "target": 5}]}
    path = f"quarters/{quarter['id']}/okrs"
    problem = refused(post(app_client, tokens.coach, org.engagement_id, path, body),
                      ("body.key_results[1].target", "target_equals_start"))
    assert problem["errors"][0]["message"] == "the target 5 equals the start 5; a key result measures a change"
    chinese = app_client.post(f"{org.base}/{path}", json=body, headers=auth(tokens.coach, **ZH)).json()
    assert chinese["errors"][0]["message"] == "目標 5 與起始值 5 相同;關鍵結果衡量的是變化"

    okr = create(app_client, tokens.coach, org.engagement_id, path, {**body, "key_results": body["key_results"][:1]})
    refused(post(app_client, tokens.coach, org.engagement_id, f"okrs/{okr['id']}/key-results",
                 {"metric": "Flat", "start": 3, "target": 3}), ("body.target", "target_equals_start"))


def test_an_okr_has_an_owner_or_a_department(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    quarter = create(app_client, tokens.coach, org.engagement_id, "quarters",
                     {"label": "Q1", "starts_on": "2026-02-02", "ends_on": "2026-04-26"})
    path = f"quarters/{quarter['id']}/okrs"
    body = {"objective": "Nobody's", "key_results": [{"metric": "Leads", "start": 0, "target": 10}]}
    problem = refused(post(app_client, tokens.coach, org.engagement_id, path, body),
                      ("body.owner_id", "owner_or_department"))
    assert problem["errors"][0]["message"] == "an OKR needs an owner or a department"
    chinese = app_client.post(f"{org.base}/{path}", json=body, headers=auth(tokens.coach, **ZH)).json()
    assert chinese["errors"][0]["message"] == "OKR 需要負責人或所屬部門"
    assert create(app_client, tokens.coach, org.engagement_id, path, {**body, "owner_id": org.pilot_ids[0]})


def test_an_okr_of_a_started_quarter_without_key_results_is_warned_about(
    app_client: TestClient, tokens: Tokens
) -> None:
    """The shipped playbooks only warn (okr_key_results_warn_only: true); before its quarter starts an OKR may
    still be drafted without one, and an OKR prepared before the start is judged on that day."""
    org = client_organization(app_client, tokens)
    started = create(app_client, tokens.coach, org.engagement_id, "quarters",
                     {"label": "Q1", "starts_on": "2026-01-05", "ends_on": "2026-03-29"})
    ahead = create(app_client, tokens.coach, org.engagement_id, "quarters",
                   {"label": "Q2", "starts_on": "2026-03-30", "ends_on": "2026-06-21"})
    bare = {"objective": "Draft", "department_id": org.pilot_department_id}
    warned = create(app_client, tokens.coach, org.engagement_id, f"quarters/{started['id']}/okrs", bare)
    assert warned["warnings"] == [
        "Q1 started on 2026-01-05; an OKR of a started quarter needs at least one key result"]
    assert create(app_client, tokens.coach, org.engagement_id, f"quarters/{ahead['id']}/okrs", bare)["warnings"] == []


@pytest.fixture
def strict_client(engine: Engine, database_url: str, clock: Clock, tmp_path: Path) -> Iterator[TestClient]:
    """The app on playbooks that refuse an OKR without key results in a started quarter."""
    for name in ("standard.yaml", "small-company.yaml"):
        text = (ROOT / "playbooks" / name).read_text(encoding="utf-8")
        marker = "  okr_key_results_warn_only:\n    type: boolean\n    default: true\n"
        assert marker in text
        (tmp_path / name).write_text(text.replace(marker, marker.replace("true", "false")), encoding="utf-8")
    app = create_app(Settings(database_url=database_url, playbooks_dir=tmp_path), engine=engine, clock=clock)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


def test_a_playbook_may_refuse_an_okr_without_key_results_once_its_quarter_started(
    strict_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(strict_client, tokens)
    quarter = create(strict_client, tokens.coach, org.engagement_id, "quarters",
                     {"label": "Q1", "starts_on": "2026-01-05", "ends_on": "2026-03-29"})
    path = f"quarters/{quarter['id']}/okrs"
    bare = {"objective": "Draft", "department_id": org.pilot_department_id}
    problem = refused(post(strict_client, tokens.coach, org.engagement_id, path, bare),
                      ("body.key_results", "okr_without_key_results"))
    assert "Q1" in problem["errors"][0]["message"]
    chinese = strict_client.post(f"{org.base}/{path}", json=bare, headers=auth(tokens.coach, **ZH)).json()
    assert "至少需要一個關鍵結果" in chinese["errors"][0]["message"]
    # Prepared the week before the quarter began (entered now, as a client taken on mid-journey would).
    before = (datetime(2026, 1, 5, tzinfo=UTC) - timedelta(days=7)).date().isoformat()
    okr = create(strict_client, tokens.coach, org.engagement_id, path, {**bare, "prepared_on": before})
    assert (okr["prepared_on"], okr["warnings"]) == (before, [])


def test_an_imported_key_result_obeys_the_same_rule(app_client: TestClient, tokens: Tokens) -> None:
    org = org_with_quarter(app_client, tokens)
    content = csv_file(OKR_HEADER, ["2026-Q1", "Sales", "Bob Lee", "Grow", "Demos", "0", "12", "", ""],
                       ["2026-Q1", "Sales", "Bob Lee", "Grow", "Flat", "7", "7", "", ""])
    response = post_import(app_client, tokens.coach, org.organization_id, "okrs", content)
    assert rejected_rows(response) == [(3, "target", "target_equals_start")]
    assert response.json()["errors"][0]["messages"]["zh-TW"] == "目標 7 與起始值 7 相同;關鍵結果衡量的是變化"


def test_an_imported_okr_needs_an_owner_or_a_department_too(app_client: TestClient, tokens: Tokens) -> None:
    org = org_with_quarter(app_client, tokens)
    content = csv_file(OKR_HEADER, ["2026-Q1", "Sales", "", "Grow", "Demos", "0", "12", "", ""],
                       ["2026-Q1", "", "Bob Lee", "Learn", "Courses", "0", "3", "", ""],
                       ["2026-Q1", "", "", "Nobody's", "Things", "0", "5", "", ""])
    response = post_import(app_client, tokens.coach, org.organization_id, "okrs", content)
    assert rejected_rows(response) == [(4, "owner", "owner_or_department")]
    assert response.json()["errors"][0]["messages"]["zh-TW"] == "OKR 需要負責人或所屬部門"
