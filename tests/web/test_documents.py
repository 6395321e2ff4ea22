"""The documents a coach hands out: filled from the engagement's records, in both languages, printable and
downloadable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.models import Department, Okr, Organization, Quarter
from okr_rollout.web.documents import training_days
from okr_rollout.web.routes import STATIC_DIR
from tests.web._pages import post_form, text_of
from tests.web._seed import World
from tests.web.conftest import sign_in

DOCUMENTS = {
    "executive_meeting_agenda": ("Executive meeting agenda", "初步高管會議議程"),
    "kickoff_worksheet": ("Kickoff worksheet", "啟動會議工作表"),
    "pilot_training_plan": ("Pilot training plan", "試點部門培訓計畫"),
    "quarter_review": ("Quarter review", "季度檢討"),
    "expansion_readiness_report": ("Expansion readiness report", "擴展準備報告"),
}


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_each_document_in_both_languages(web: TestClient, world: World, document: str) -> None:
    token = sign_in(web, "chen@example.com")
    url = f"/engagements/{world.formosa}/documents/{document}"
    english = web.get(url)
    assert english.status_code == 200
    assert DOCUMENTS[document][0] in english.text and '<article class="document"' in english.text
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/"})
    chinese = web.get(url)
    assert chinese.status_code == 200 and DOCUMENTS[document][1] in chinese.text
    download = web.get(url + "?download=1")
    disposition = download.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="{document}-Formosa-Bikes.html"; filename*=UTF-8\'\'')
    assert unquote(disposition.split("\'\'", 1)[1]).startswith(DOCUMENTS[document][1])  # the reader's language


def test_documents_print_without_the_pages_chrome() -> None:
    css = (STATIC_DIR / "style.css").read_text()
    print_rules = css[css.index("@media print"):]
    assert "@page" in print_rules and ".no-print" in print_rules and ".top" in print_rules


def test_an_unknown_document_is_not_found(web: TestClient, world: World) -> None:
    sign_in(web, "chen@example.com")
    assert web.get(f"/engagements/{world.formosa}/documents/nonsense").status_code == 404


def test_the_kickoff_worksheet_is_filled_from_the_records(web: TestClient, world: World,
                                                          db: Callable[[], Session]) -> None:
    with db() as session:
        organization = session.get(Organization, world.formosa_org)
        assert organization is not None
        organization.mission, organization.vision_5y = "Move people", "Across Asia"
        organization.strategies = ["Own the city bike"]
        session.add(Department(organization_id=world.formosa_org, name="Sales", is_pilot=True, lead_id=world.ceo_id))
    sign_in(web, "chen@example.com")
    text = text_of(web.get(f"/engagements/{world.formosa}/documents/kickoff_worksheet").text)
    assert "Move people" in text and "Across Asia" in text and "Own the city bike" in text
    assert "Choose 1 to 2 pilot departments" in text and "Sales Lee Ceo ☑" in text


def test_the_training_plan_follows_the_playbook(web: TestClient, world: World) -> None:
    sign_in(web, "chen@example.com")
    text = text_of(web.get(f"/engagements/{world.formosa}/documents/pilot_training_plan").text)
    assert "About 18 hours over 3 days" in text
    assert "Day 1 6 Basic concepts; Deep principles" in text and "Day 3 6 Practice and coaching" in text
    assert "Total 18" in text


def test_training_days_spread_the_modules_in_order() -> None:
    guide = {"training_hours": 18, "training_days": 3, "training_hours_per_day": 6}
    assert training_days(guide, ["a", "b", "c", "d"]) == [(1, 6.0, ["a", "b"]), (2, 6.0, ["c"]), (3, 6.0, ["d"])]
    assert training_days({}, ["a"]) == []


def test_training_days_add_up_to_the_courses_hours() -> None:
    # 12 hours over the usual 3 days: 4 a day, not a 3 x 6 = 18 hour table.
    assert training_days({"training_hours": 12, "training_days": 3, "training_hours_per_day": 6}, ["a", "b"]) == [
        (1, 4.0, ["a"]), (2, 4.0, ["b"]), (3, 4.0, [])]
    # 30 hours at most 6 a day need 5 days, more than the usual 3.
    longer = training_days({"training_hours": 30, "training_days": 3, "training_hours_per_day": 6}, ["a"])
    assert [hours for _, hours, _ in longer] == [6.0] * 5


def test_the_quarter_review_shows_scores_decisions_and_the_deadline(web: TestClient, world: World,
                                                                    db: Callable[[], Session]) -> None:
    with db() as session:
        quarter = Quarter(engagement_id=world.formosa, label="2025-Q4", starts_on=date(2025, 10, 1),
                          ends_on=date(2025, 12, 31))
        session.add(quarter)
        session.flush()
        session.add(Okr(engagement_id=world.formosa, quarter_id=quarter.id, objective="Launch faster",
                        owner_id=world.ceo_id, score=0.7, decision="continue"))
    sign_in(web, "chen@example.com")
    text = text_of(web.get(f"/engagements/{world.formosa}/documents/quarter_review").text)
    assert "Quarter 2025-Q4" in text
    assert "Next quarter prepared by January 21, 2026" in text and "16 days left." in text
    assert "Launch faster Lee Ceo 0.7 Continue" in text
    assert "1 of 1 OKRs scored; average 0.7." in text


def test_the_readiness_report_lists_the_four_conditions(web: TestClient, world: World) -> None:
    sign_in(web, "wang@example.com")  # an internal coach reads it too
    page = web.get(f"/engagements/{world.formosa}/documents/expansion_readiness_report").text
    assert page.count('data-criterion="') == 4
    assert "Not ready yet: 0 of 4 conditions hold." in text_of(page)
