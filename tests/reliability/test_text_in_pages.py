"""SQL and HTML typed into the API show up in the coach's pages and documents as text: escaped, never markup.

The organization's name, mission, visions, strategies and challenges, a person's name and a meeting's notes are
set through the JSON API; then every page a coach reads about the engagement (portfolio, engagement, records,
every document of its playbook) is fetched signed in. No page carries the raw tags, and the text a reader sees
(tags stripped, entities decoded) contains the whole string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.app import create_app
from okr_rollout.settings import Settings
from tests.conftest import ROOT, Clock, Tokens, auth, playbooks_catalog
from tests.reliability._seed import API
from tests.reliability.test_text_fields import NASTY
from tests.web._seed import PASSWORD, seed

RAW = ["<script>alert('x')</script>", "<img src=x onerror=alert(1)>"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def text_of(html: str) -> str:
    """What a reader sees: tags removed first (a raw tag in the text would vanish here), then entities decoded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def pages(engine: Engine, database_url: str, clock: Clock) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks"), engine=engine,
                     clock=clock, catalog=playbooks_catalog())
    with TestClient(app, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, email: str) -> None:
    form = CSRF.search(client.get("/sign-in").text)
    assert form, "no sign-in form"
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": form.group(1)})
    assert response.status_code == 303, response.text


def test_text_from_the_api_is_escaped_in_every_page_and_document(
        pages: TestClient, tokens: Tokens, engine: Engine, clock: Clock) -> None:
    world = seed(engine, clock.now)
    organization = f"{API}/organizations/{world.formosa_org}"
    updated = pages.patch(organization, headers=auth(tokens.admin), json={
        "name": NASTY, "mission": NASTY, "vision_1y": NASTY, "vision_5y": NASTY, "vision_10y": NASTY,
        "strategies": [NASTY], "challenges": [NASTY]})
    assert updated.status_code == 200, updated.text
    person = pages.patch(f"{organization}/people/{world.ceo_id}", json={"name": NASTY}, headers=auth(tokens.admin))
    assert person.status_code == 200, person.text
    meeting = pages.post(f"{API}/engagements/{world.formosa}/meetings", headers=auth(tokens.admin), json={
        "kind": "executive", "held_at": clock.now.isoformat(), "attendee_ids": [world.ceo_id], "notes": NASTY})
    assert meeting.status_code == 201, meeting.text

    engagement = pages.get(f"{API}/engagements/{world.formosa}", headers=auth(tokens.admin)).json()
    spec = pages.get(f"{API}/playbooks/{engagement['playbook']['id']}/versions/{engagement['playbook']['version']}",
                     headers=auth(tokens.admin)).json()
    documents = [d["id"] for phase in spec["phases"] for d in phase.get("documents", [])]
    assert documents, "the playbook has documents to render"
    urls = ["/portfolio", f"/engagements/{world.formosa}", f"/engagements/{world.formosa}/records",
            *(f"/engagements/{world.formosa}/documents/{d}" for d in documents)]

    sign_in(pages, "chen@example.com")  # the engagement's coach
    shown = []
    for url in urls:
        response = pages.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"
        for tag in RAW:
            assert tag not in response.text, f"{url} carries raw markup from the API: {tag}"
        if NASTY in text_of(response.text):
            shown.append(url)
    # The engagement's own page names its organization; so does every document written for it.
    assert f"/engagements/{world.formosa}" in shown
    assert [u for u in urls if "/documents/" in u] == [u for u in shown if "/documents/" in u]
