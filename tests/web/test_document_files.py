"""Documents a client can keep: downloaded as a page of their own (CSS inline, no app chrome, no form or token) and
as PDF (WeasyPrint, CJK fonts), naming people, outcomes and criteria by their titles in the reader's language,
never by a key or an id. The PDFs are read back with poppler: their text, their fonts and a rendered first page."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements.schemas import EngagementCreate
from okr_rollout.models import (
    Appointment,
    Department,
    KeyResult,
    Meeting,
    Okr,
    Organization,
    Person,
    Pulse,
    Quarter,
    User,
)
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import OrganizationCreate, PersonCreate
from okr_rollout.playbooks import load
from tests.conftest import ROOT, Clock
from tests.web._pages import post_form, text_of
from tests.web._seed import ADMIN, World, password_hash
from tests.web.conftest import sign_in

# Document id -> (its title in English, in Traditional Chinese).
DOCUMENTS = {
    "executive_meeting_agenda": ("Executive meeting agenda", "初步高管會議議程"),
    "kickoff_worksheet": ("Kickoff worksheet", "啟動會議工作表"),
    "pilot_training_plan": ("Pilot training plan", "試點部門培訓計畫"),
    "quarter_review": ("Quarter review", "季度檢討"),
    "expansion_readiness_report": ("Expansion readiness report", "擴展準備報告"),
}

# What each document must say, beyond its title, in each language: names and titles, never keys.
EXPECTED = {
    "executive_meeting_agenda": (["Lee Ceo", "Chen Mei-ling", "☑ CEO support obtained", "☐ Expectations set"],
                                 ["Lee Ceo", "Chen Mei-ling", "☑ 已獲得 CEO 的支持", "☐ 已設立期望"]),
    "kickoff_worksheet": (["Sales", "Lee Ceo", "Move people"], ["Sales", "Lee Ceo", "Move people"]),
    "pilot_training_plan": (["Basic concepts", "Practice and coaching"], ["基本概念", "練習與輔導"]),
    "quarter_review": (["Launch faster", "Lee Ceo", "Continue", "Bikes sold", "Pulse after milestones",
                        "Pilot training", "Average 2.5 of 5", "2 of 3 answered", "Too fast for us",
                        "Low rating: talk with the attendees", "quarter review meeting", "Average 4.5 of 5",
                        "2 of 2 answered", "Clear decisions"],
                       ["Launch faster", "Lee Ceo", "繼續", "Bikes sold", "里程碑後的回饋", "試點培訓",
                        "平均 2.5 分(滿分 5 分)", "3 人中已有 2 人回覆", "Too fast for us", "評分偏低", "季度回顧會議",
                        "平均 4.5 分(滿分 5 分)", "2 人中已有 2 人回覆", "Clear decisions"]),
    "expansion_readiness_report": (
        ["Wang Internal", "Internal OKR coach", "Internal OKR coaches are trained", "The OKR Master is ready",
         "Not ready yet"],
        ["Wang Internal", "內部 OKR 教練", "內部 OKR 教練訓練完成", "OKR 主管準備就緒", "尚未準備就緒"]),
}

# A key or id as a program reads it: snake_case words, an id list, a bare boolean, an evidence key.
LEAKS = [re.compile(p) for p in (r"\b[a-z0-9]+_[a-z0-9_]+\b", r"\[\s*\d[\d,\s]*\]", r"\[\s*\]", r"\bTrue\b",
                                 r"\bFalse\b", r"\bNone\b", r"\bappointed\s*[\[:]", r"must_be_trained",
                                 r"coach_assigned", r"q1_ended")]


@pytest.fixture
def filled(world: World, db: Callable[[], Session]) -> World:
    """The Formosa engagement with something in every document: a pilot department, an executive meeting that
    recorded one outcome, an internal coach appointed but not trained, a scored quarter."""
    with db() as session:
        organization = session.get_one(Organization, world.formosa_org)
        organization.mission = "Move people"
        session.add(Department(organization_id=world.formosa_org, name="Sales", is_pilot=True, lead_id=world.ceo_id))
        session.add(Meeting(engagement_id=world.formosa, kind="executive",
                            held_at=datetime(2026, 1, 2, 2, 0, tzinfo=UTC),
                            attendee_ids=[world.ceo_id, world.chen_person], outcomes=["ceo_support"]))
        session.add(Appointment(engagement_id=world.formosa, person_id=world.member_id, role="internal_coach"))
        quarter = Quarter(engagement_id=world.formosa, label="2025-Q4", starts_on=date(2025, 10, 1),
                          ends_on=date(2025, 12, 31))
        session.add(quarter)
        session.flush()
        okr = Okr(engagement_id=world.formosa, quarter_id=quarter.id, objective="Launch faster",
                  owner_id=world.ceo_id, score=0.7, decision="continue")
        session.add(okr)
        session.flush()
        session.add(KeyResult(engagement_id=world.formosa, okr_id=okr.id, metric="Bikes sold", start_value=0,
                              target_value=100, current_value=70))
        attendees = [world.ceo_id, world.member_id]
        for name in ("Ho Sales", "Wu Sales"):
            person = Person(organization_id=world.formosa_org, name=name, roles=["member"])
            session.add(person)
            session.flush()
            attendees.append(person.id)
        # The quarter's pulses: a training held in it, and its review held after it ends; not a kickoff held
        # before it, nor the review of the quarter before, held in its first days.
        for record_id, (milestone, held_on, ratings) in enumerate((
                ("pilot_training", date(2025, 11, 3), [(2, "Too fast for us"), (3, ""), None]),
                ("quarter_review", date(2026, 1, 8), [(4, "Clear decisions"), (5, "")]),
                ("kickoff", date(2025, 9, 15), [(1, "Outside the quarter")]),
                ("quarter_review", date(2025, 10, 9), [(1, "The quarter before")]))):
            for person_id, answer in zip(attendees, ratings, strict=False):
                session.add(Pulse(engagement_id=world.formosa, milestone=milestone, record_kind="meeting",
                                  record_id=100 + record_id, held_on=held_on, person_id=person_id,
                                  token_hash=f"{record_id}-{person_id}".ljust(64, "0"),
                                  rating=answer[0] if answer else None, comment=answer[1] if answer else "",
                                  answered_at=datetime(2026, 1, 9, tzinfo=UTC) if answer else None))
    return world


def _pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", " ", result.stdout.decode("utf-8"))


def _pdf_fonts(tmp_path: Path, name: str) -> str:
    return subprocess.run(["pdffonts", str(tmp_path / f"{name}.pdf")], capture_output=True, text=True,
                          check=True).stdout


def _first_page_png(tmp_path: Path, name: str) -> Path:
    prefix = tmp_path / name
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", f"{prefix}.pdf",
                    str(prefix)], capture_output=True, check=True)
    return prefix.with_suffix(".png")


def _assert_not_blank(png: Path) -> None:
    assert png.stat().st_size > 0
    with Image.open(png) as image:
        grey = image.convert("L")
        darkest, lightest = grey.getextrema()  # type: ignore[misc]
        inked = sum(grey.histogram()[:128])
        assert darkest < 64 and lightest > 200, "the page is one colour"
        assert inked > 200, f"only {inked} dark pixels: the page is nearly blank"


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_each_documents_pdf_reads_in_both_languages_without_keys_or_ids(
        web: TestClient, filled: World, document: str, tmp_path: Path) -> None:
    token = sign_in(web, "chen@example.com")
    page = web.get(f"/engagements/{filled.formosa}/documents/{document}").text
    assert f'href="/engagements/{filled.formosa}/documents/{document}/pdf"' in page  # the link beside Download
    for index, locale in enumerate(("en", "zh-TW")):
        post_form(web, token, "/locale", {"locale": locale, "next": "/"})
        response = web.get(f"/engagements/{filled.formosa}/documents/{document}/pdf")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF-")
        disposition = response.headers["content-disposition"]
        assert disposition.startswith(f'attachment; filename="{document}-Formosa-Bikes.pdf"; filename*=UTF-8\'\'')
        readable = unquote(disposition.split("''", 1)[1])  # the title, cut of its colon, and the organization
        assert readable.startswith(DOCUMENTS[document][index]) and readable.endswith(" - Formosa Bikes.pdf")
        assert ":" not in readable and "  " not in readable
        name = f"{document}-{locale}"
        text = _pdf_text(response.content, tmp_path, name)
        for expected in [DOCUMENTS[document][index], "Formosa Bikes", *EXPECTED[document][index]]:
            assert expected in text, f"{name}: {expected!r} not in {text!r}"
        for leak in LEAKS:
            assert not leak.search(text), f"{name}: {leak.pattern} in {text!r}"
        assert "Outside the quarter" not in text and "The quarter before" not in text
        if locale == "zh-TW":
            assert "Noto Sans CJK TC" in _pdf_fonts(tmp_path, name).replace("-", " ")  # Chinese, not empty boxes
        _assert_not_blank(_first_page_png(tmp_path, name))


def test_download_is_a_standalone_page_without_the_apps_chrome(web: TestClient, filled: World) -> None:
    sign_in(web, "chen@example.com")
    for document in sorted(DOCUMENTS):
        url = f"/engagements/{filled.formosa}/documents/{document}"
        on_page = web.get(url).text
        assert "<nav" in on_page and "csrf" in on_page  # the page in the app has them ...
        response = web.get(url + "?download=1")
        assert response.status_code == 200
        html = response.text
        for chrome in ("<nav", "csrf", "<form", '<link rel="stylesheet"', "<script", "/static/", "Sign out",
                       "data-criterion"):
            assert chrome not in html, f"{document}: {chrome!r} in the download"  # ... the download has not
        assert "<style>" in html and ".document {" in html and '"Noto Sans CJK TC"' in html
        assert response.headers["content-disposition"].startswith(
            f'attachment; filename="{document}-Formosa-Bikes.html"; filename*=UTF-8\'\'')
        text = text_of(html[html.index("<body"):])
        for leak in LEAKS:
            assert not leak.search(text), f"{document}: {leak.pattern} in {text!r}"


def test_the_quarter_asked_for_is_kept_in_the_download_and_pdf_links(web: TestClient, filled: World) -> None:
    sign_in(web, "chen@example.com")
    page = web.get(f"/engagements/{filled.formosa}/documents/quarter_review?quarter_id=1").text
    assert f"/engagements/{filled.formosa}/documents/quarter_review?quarter_id=1&amp;download=1" in page
    assert f"/engagements/{filled.formosa}/documents/quarter_review/pdf?quarter_id=1" in page


def test_the_agenda_ticks_the_outcomes_recorded_and_only_by_a_held_meeting(
        web: TestClient, filled: World, db: Callable[[], Session]) -> None:
    sign_in(web, "chen@example.com")
    url = f"/engagements/{filled.formosa}/documents/executive_meeting_agenda"
    text = text_of(web.get(url).text)
    assert "☑ CEO support obtained" in text and "☐ Expectations set" in text
    with db() as session:  # a planned meeting records nothing yet
        session.add(Meeting(engagement_id=filled.formosa, kind="executive",
                            held_at=datetime(2026, 1, 9, 2, 0, tzinfo=UTC), outcomes=["expectations_set"],
                            status="planned"))
    assert "☐ Expectations set" in text_of(web.get(url).text)


def test_an_organization_without_a_latin_letter_still_gets_a_readable_file_name(
        web: TestClient, filled: World, db: Callable[[], Session]) -> None:
    with db() as session:
        session.get_one(Organization, filled.formosa_org).name = "福爾摩沙單車"
    token = sign_in(web, "chen@example.com")
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/"})
    response = web.get(f"/engagements/{filled.formosa}/documents/kickoff_worksheet?download=1")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="kickoff_worksheet.html"; ')
    assert unquote(disposition.split("''", 1)[1]) == "啟動會議工作表 使命、願景、策略與試點選擇 - 福爾摩沙單車.html"


def test_the_small_company_playbook_names_its_criteria_and_documents_by_title(
        engine: Engine, clock: Clock, catalog: Catalog, web: TestClient) -> None:
    with session_scope(make_session_factory(engine)) as session:
        organization = organizations.create_organization(session, ADMIN, OrganizationCreate(
            name="Pixel Sprouts", headcount=5, timezone="Asia/Taipei"), clock.now)
        organizations.create_person(session, ADMIN, organization.id, PersonCreate(name="Ada Founder", roles=["ceo"]),
                                    clock.now)
        engagement = engagements.create_engagement(session, ADMIN, catalog, EngagementCreate(
            organization_id=organization.id, playbook="small_company"), clock.now).id
        session.add(User(email="admin@example.com", password_hash=password_hash(), role="admin", created_at=clock.now))
    titles = {d.id: d.title for p in load(ROOT / "playbooks" / "small-company.yaml").spec.phases for d in p.documents}
    assert set(titles) == {"executive_meeting_agenda", "kickoff_worksheet", "pilot_training_plan", "quarter_review"}
    token = sign_in(web, "admin@example.com")
    for locale in ("en", "zh-TW"):
        post_form(web, token, "/locale", {"locale": locale, "next": "/"})
        page = web.get(f"/engagements/{engagement}").text
        coached = {"en": "An OKR coach is assigned", "zh-TW": "已指派 OKR 教練"}[locale]
        assert f"<strong>{coached}</strong>" in page
        assert "<strong>coach_assigned</strong>" not in page
        for document, title in titles.items():
            html = web.get(f"/engagements/{engagement}/documents/{document}?download=1").text
            text = text_of(html[html.index("<body"):])
            assert "Pixel Sprouts" in text and title.get(locale) in text
            for leak in LEAKS:
                assert not leak.search(text), f"{document}, {locale}: {leak.pattern} in {text!r}"
