"""The engagement page's playbook version: the pinned version, a newer one offered, its dry run previewed and
applied by a coach (standard v1 in the main directory, v2 in the extra one, as in tests/versions)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from okr_rollout.models import Engagement, Event, User
from tests.conftest import Clock, Tokens, auth
from tests.versions._seed import engagement_in, finish_task, tasks_by_key
from tests.versions.conftest import FIXTURES, Dirs, settings_for, start_app
from tests.web._pages import post_form, text_of
from tests.web._seed import World, password_hash
from tests.web.conftest import csrf_of, sign_in

COACH_EMAIL = "coach@example.com"
MEMBER_EMAIL = "internal@example.com"


@pytest.fixture
def version_dirs(tmp_path: Path) -> Dirs:
    main, extra = tmp_path / "playbooks", tmp_path / "extra"
    (extra / "standard").mkdir(parents=True)
    main.mkdir()
    shutil.copy(FIXTURES / "v1.yaml", main / "standard.yaml")
    shutil.copy(FIXTURES / "v2.yaml", extra / "standard" / "v2.yaml")
    return Dirs(main, extra)


@pytest.fixture
def pages(engine: Engine, database_url: str, clock: Clock, version_dirs: Dirs, tokens: Tokens,
          db: Callable[[], Session]) -> Iterator[TestClient]:
    """The app on both playbook directories; the API's coach also has a login for the pages."""
    with db() as session:
        session.add(User(email=COACH_EMAIL, password_hash=password_hash(), role="coach",
                         person_id=tokens.coach_person_id, created_at=clock.now))
    app = start_app(settings_for(database_url, version_dirs), engine, clock)
    with TestClient(app, raise_server_exceptions=True, follow_redirects=False) as client:
        yield client


def test_the_engagement_page_offers_the_newer_version_and_applies_its_previewed_plan(
        pages: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    engagement_id = engagement_in(pages, tokens, db, "coach_engaged", clock.now)
    token = sign_in(pages, COACH_EMAIL)

    page = pages.get(f"/engagements/{engagement_id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Playbook “standard”, version 1" in text
    assert "Version 2 of this playbook exists." in text
    assert f'href="/engagements/{engagement_id}/migration?to=2"' in page.text

    preview = pages.get(f"/engagements/{engagement_id}/migration?to=2")
    assert preview.status_code == 200, preview.text
    shown = text_of(preview.text)
    assert 'data-phase-before="coach_engaged" data-phase-after="coach_engaged"' in preview.text
    assert 'data-task="plan_coaching_calendar"' in preview.text  # v2's new task of coach_engaged
    assert 'data-gate="schedule_executive_meeting" data-verdict="now_fails"' in preview.text
    assert "version 1 → 2" in shown and "1 task(s) to add" in shown  # the plan's summary
    assert f'action="/engagements/{engagement_id}/migration"' in preview.text
    with db() as session:  # a preview writes nothing
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None and engagement.playbook_version == 1
        version = engagement.version

    # In Traditional Chinese the page and the plan's summary are in the reader's language.
    here = f"/engagements/{engagement_id}/migration?to=2"
    post_form(pages, token, "/locale", {"locale": "zh-TW", "next": here})
    zh = pages.get(here)
    assert "將會變更的內容" in zh.text and "第 1 版 → 第 2 版" in zh.text
    post_form(pages, token, "/locale", {"locale": "en", "next": here})

    # A form without the CSRF token is refused; with it, the plan is applied and the coach sent back.
    assert pages.post(f"/engagements/{engagement_id}/migration",
                      data={"to_version": "2", "version": str(version)}).status_code == 403
    status, location, _ = post_form(pages, token, f"/engagements/{engagement_id}/migration",
                                    {"to_version": "2", "version": str(version)})
    assert status == 303 and location == f"/engagements/{engagement_id}?migrated=2"
    body = pages.get(f"/api/v1/engagements/{engagement_id}", headers=auth(tokens.coach)).json()
    assert body["playbook"]["version"] == 2 and body["phase"] == "coach_engaged"
    with db() as session:
        event = session.scalars(select(Event).where(Event.engagement_id == engagement_id)
                                .order_by(Event.id.desc())).first()
        assert event is not None and event.type == "playbook.migrated"

    after = text_of(pages.get(location).text)
    assert "now follows version 2" in after and "Playbook “standard”, version 2" in after
    assert "Version 2 of this playbook exists." not in after and "This is the newest version" in after


def test_a_phase_the_new_version_lacks_shows_why_instead_of_apply(
        pages: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    engagement_id = engagement_in(pages, tokens, db, "executive_meeting", clock.now)
    token = sign_in(pages, COACH_EMAIL)
    preview = pages.get(f"/engagements/{engagement_id}/migration?to=2")
    assert preview.status_code == 200
    shown = text_of(preview.text)
    assert "Phase executive_meeting does not exist in version 2" in shown
    assert f'action="/engagements/{engagement_id}/migration"' not in preview.text
    # Posting anyway is refused and changes nothing.
    with db() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        version = engagement.version
    status, _, _ = post_form(pages, token, f"/engagements/{engagement_id}/migration",
                             {"to_version": "2", "version": str(version)})
    assert status == 409
    with db() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None and engagement.playbook_version == 1


def test_one_who_may_not_fire_transitions_sees_the_plan_without_apply(
        pages: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    engagement_id = engagement_in(pages, tokens, db, "coach_engaged", clock.now)
    with db() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        session.add(User(email=MEMBER_EMAIL, password_hash=password_hash(), role="internal_coach",
                         organization_id=engagement.organization_id, created_at=clock.now))
    sign_in(pages, MEMBER_EMAIL)
    preview = pages.get(f"/engagements/{engagement_id}/migration?to=2")
    assert preview.status_code == 200
    assert 'data-task="plan_coaching_calendar"' in preview.text
    assert f'action="/engagements/{engagement_id}/migration"' not in preview.text


def test_with_one_version_no_newer_one_is_offered(web: TestClient, world: World) -> None:
    sign_in(web, "chen@example.com")
    page = web.get(f"/engagements/{world.formosa}")
    text = text_of(page.text)
    assert "Playbook “standard”, version 3" in text
    assert "This is the newest version of the playbook." in text
    assert "/migration?to=" not in page.text and "of this playbook exists" not in text
    csrf_of(page.text)


TASK = re.compile(r'<article class="task ([^"]*)" id="task-(\d+)" data-task="([a-z_0-9]+)">')


def test_after_a_migration_the_page_shows_the_open_tasks_the_api_lists(
        pages: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    """v2 folds pilot_drafting's introduce_okr_software into draft_okrs: the migration closes it as obsolete, and
    neither the engagement page nor GET /api/v1/engagements/{id} lists it as open any longer."""
    engagement_id = engagement_in(pages, tokens, db, "pilot_drafting", clock.now)
    finish_task(pages, tokens.coach, tasks_by_key(db, engagement_id)[("pilot_drafting", "form_drafting_groups")].id)
    before = {t["key"] for t in pages.get(f"/api/v1/engagements/{engagement_id}",
                                          headers=auth(tokens.coach)).json()["open_tasks"]}
    assert "introduce_okr_software" in before
    migrated = pages.post(f"/api/v1/engagements/{engagement_id}/migrations", json={"to_version": 2},
                          headers=auth(tokens.coach))
    assert migrated.status_code == 200, migrated.text
    assert [t["key"] for t in migrated.json()["plan"]["tasks_obsolete"]] == ["introduce_okr_software"]

    api = pages.get(f"/api/v1/engagements/{engagement_id}", headers=auth(tokens.coach)).json()["open_tasks"]
    sign_in(pages, COACH_EMAIL)
    page = pages.get(f"/engagements/{engagement_id}")
    assert page.status_code == 200
    shown = TASK.findall(page.text)
    page_open = [(int(task_id), key) for classes, task_id, key in shown if "done" not in classes.split()]
    assert page_open == [(t["id"], t["key"]) for t in api]  # the same tasks, in the same order
    assert {key for _, key in page_open} == {"draft_okrs"}
    assert [key for classes, _, key in shown if "done" in classes.split()] == ["form_drafting_groups"]
    assert "introduce_okr_software" not in page.text
