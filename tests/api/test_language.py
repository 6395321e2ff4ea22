"""Problems and gate reasons in the caller's language: the request's Accept-Language, else the language of the
token's person, else English; things named by their titles and names, never by key or id.

Each status is asked three ways: an administrator's token without Accept-Language (English), the same token with
``Accept-Language: zh-TW``, and the token of a coach whose person reads zh-TW, without the header (Traditional
Chinese) and with ``Accept-Language: en`` (the header wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.api.problems import install
from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.errors import Forbidden
from okr_rollout.models import Person
from okr_rollout.texts import LocalizedText
from tests.api._helpers import assert_problem, create_engagement, create_organization, fire
from tests.conftest import Tokens, auth

ZH = {"Accept-Language": "zh-TW"}
EN = {"Accept-Language": "en"}


@dataclass(frozen=True)
class ZhCoach:
    token: str
    person_id: int


@pytest.fixture
def zh_coach(engine: Engine) -> ZhCoach:
    """An external coach whose person reads Traditional Chinese, with a token of their own."""
    with session_scope(make_session_factory(engine)) as session:
        person = Person(name="林教練", roles=["coach"], locale="zh-TW", created_at=datetime.now(UTC))
        session.add(person)
        session.flush()
        token, _ = create_token(session, role=Role.coach, person_id=person.id)
        return ZhCoach(token, person.id)


def _asked(client: TestClient, method: str, path: str, token: str, headers: dict[str, str] | None = None,
           **kwargs: Any) -> Any:
    return client.request(method, path, headers={**auth(token), **(headers or {})}, **kwargs)


# --- 404 ----------------------------------------------------------------------------------------------------------


def test_not_found_in_the_callers_language(app_client: TestClient, tokens: Tokens, zh_coach: ZhCoach) -> None:
    path = "/api/v1/engagements/424242"
    english = assert_problem(_asked(app_client, "GET", path, tokens.admin), 404)
    assert (english["title"], english["detail"]) == ("Not found",
                                                     "There is no such engagement, or it is not visible to you.")
    chinese = assert_problem(_asked(app_client, "GET", path, tokens.admin, ZH), 404)
    assert (chinese["title"], chinese["detail"]) == ("找不到", "找不到此輔導專案,或您沒有檢視權限。")
    assert assert_problem(_asked(app_client, "GET", path, zh_coach.token), 404)["detail"] == chinese["detail"]
    assert assert_problem(_asked(app_client, "GET", path, zh_coach.token, EN), 404)["detail"] == english["detail"]
    # The first language the server writes, by quality: French is not one, Chinese is.
    ranked = _asked(app_client, "GET", path, tokens.admin, {"Accept-Language": "fr-FR, zh-Hant;q=0.8, en;q=0.5"})
    assert assert_problem(ranked, 404)["detail"] == chinese["detail"]
    # What the caller asked for is in the path; the text does not repeat the id.
    assert "424242" not in english["detail"] and "424242" not in chinese["detail"]


def test_a_problem_before_the_token_is_read_follows_accept_language(app_client: TestClient) -> None:
    english = assert_problem(app_client.get("/api/v1/organizations"), 401)
    chinese = assert_problem(app_client.get("/api/v1/organizations", headers=ZH), 401)
    assert (english["title"], english["detail"]) == ("Unauthorized", "A valid bearer token is required.")
    assert (chinese["title"], chinese["detail"]) == ("未授權", "需要有效的 Bearer 權杖。")


# --- 409: a gate's refusal ----------------------------------------------------------------------------------------


def _coached_journey(client: TestClient, tokens: Tokens, coach_person_id: int) -> int:
    organization = create_organization(client, tokens.admin)
    return int(create_engagement(client, tokens.admin, organization["id"], coach_ids=[coach_person_id])["id"])


def test_gate_refusal_is_said_by_titles_in_the_callers_language(app_client: TestClient, tokens: Tokens,
                                                                 zh_coach: ZhCoach) -> None:
    engagement_id = _coached_journey(app_client, tokens, zh_coach.person_id)
    assert fire(app_client, zh_coach.token, engagement_id, "schedule_executive_meeting").status_code == 200

    chinese = assert_problem(fire(app_client, zh_coach.token, engagement_id, "hold_kickoff"), 409, slug="gate-refused")
    assert chinese["title"] == "關卡拒絕了此轉換"
    assert chinese["detail"] == ("無法舉行啟動會議(目前階段:初步高管會議):尚未舉行初步高管會議。"
                                 "尚未記錄 CEO 的支持聲明。")
    reasons = {c["id"]: c for c in chinese["readiness"]["criteria"]}
    assert reasons["executive_outcomes"]["reason"] == "尚未舉行初步高管會議。"
    # The machine-readable part keeps its keys, and both languages stay available.
    assert reasons["executive_outcomes"]["evidence"]["meeting_kind"] == "executive"
    assert reasons["executive_outcomes"]["reasons"] == {"en": "No executive meeting has been held yet.",
                                                        "zh-TW": "尚未舉行初步高管會議。"}

    english = assert_problem(fire(app_client, zh_coach.token, engagement_id, "hold_kickoff", **EN), 409)
    assert english["title"] == "Transition refused by its gate"
    assert english["detail"] == ("Hold the kickoff meeting (from Executive meeting) is refused: No executive meeting "
                                 "has been held yet. No statement of CEO support is recorded.")
    admin_zh = assert_problem(fire(app_client, tokens.admin, engagement_id, "hold_kickoff", **ZH), 409)
    assert admin_zh["detail"] == chinese["detail"]
    assert assert_problem(fire(app_client, tokens.admin, engagement_id, "hold_kickoff"), 409)["detail"] == \
        english["detail"]


def test_readiness_reasons_in_the_callers_language(app_client: TestClient, tokens: Tokens,
                                                   zh_coach: ZhCoach) -> None:
    engagement_id = _coached_journey(app_client, tokens, zh_coach.person_id)
    fire(app_client, zh_coach.token, engagement_id, "schedule_executive_meeting")
    path = f"/api/v1/engagements/{engagement_id}/readiness"

    def reason(token: str, headers: dict[str, str] | None = None) -> str:
        response = _asked(app_client, "GET", path, token, headers)
        assert response.status_code == 200, response.text
        criteria = {c["id"]: c for t in response.json()["transitions"] for c in t["criteria"]}
        return str(criteria["executive_outcomes"]["reason"])

    assert reason(zh_coach.token) == "尚未舉行初步高管會議。"
    assert reason(zh_coach.token, EN) == "No executive meeting has been held yet."
    assert reason(tokens.admin, ZH) == "尚未舉行初步高管會議。"


# --- 412 ------------------------------------------------------------------------------------------------------------


def test_precondition_failed_in_the_callers_language(app_client: TestClient, tokens: Tokens,
                                                     zh_coach: ZhCoach) -> None:
    engagement_id = _coached_journey(app_client, tokens, zh_coach.person_id)
    path = f"/api/v1/engagements/{engagement_id}/transitions"
    body = {"trigger": "schedule_executive_meeting"}
    english = assert_problem(_asked(app_client, "POST", path, tokens.admin, {"If-Match": '"v9"'}, json=body), 412)
    assert (english["title"], english["detail"]) == (
        "Precondition failed", 'If-Match "v9" does not match the current version "v1"; reload and retry.')
    chinese = assert_problem(_asked(app_client, "POST", path, zh_coach.token, {"If-Match": '"v9"'}, json=body), 412)
    assert (chinese["title"], chinese["detail"]) == ("前置條件不符",
                                                     'If-Match "v9" 與目前的版本 "v1" 不符,請重新載入後再試。')
    with_header = _asked(app_client, "POST", path, tokens.admin, {"If-Match": '"v9"', **ZH}, json=body)
    assert assert_problem(with_header, 412)["detail"] == chinese["detail"]


# --- 422 ------------------------------------------------------------------------------------------------------------


def test_validation_errors_name_each_field_in_the_callers_language(app_client: TestClient, tokens: Tokens,
                                                                    zh_coach: ZhCoach) -> None:
    body = {"headcount": "many", "colour": "blue"}
    english = assert_problem(_asked(app_client, "POST", "/api/v1/organizations", tokens.admin, json=body), 422)
    chinese = assert_problem(_asked(app_client, "POST", "/api/v1/organizations", tokens.admin, ZH, json=body), 422)
    assert english["title"] == "Unprocessable content" and chinese["title"] == "無法處理的內容"
    assert english["detail"] == "Invalid input: body.name, body.headcount, body.colour"
    assert chinese["detail"] == "輸入無效:body.name, body.headcount, body.colour"
    said = {e["field"]: (e["type"], e["message"]) for e in chinese["errors"]}
    assert said == {"body.name": ("missing", "必填欄位"), "body.headcount": ("int_parsing", "必須是整數"),
                    "body.colour": ("extra_forbidden", "未知的欄位")}
    assert {e["field"]: e["message"] for e in english["errors"]}["body.colour"] == "unknown field"


def test_a_rule_of_a_record_is_said_in_the_callers_language(app_client: TestClient, tokens: Tokens,
                                                            zh_coach: ZhCoach) -> None:
    engagement_id = _coached_journey(app_client, tokens, zh_coach.person_id)
    stranger = create_organization(app_client, tokens.admin)
    person = app_client.post(f"/api/v1/organizations/{stranger['id']}/people", json={"name": "Someone Else"},
                             headers=auth(tokens.admin))
    assert person.status_code == 201, person.text
    meeting = {"kind": "executive", "held_at": "2020-01-06T09:00:00Z", "attendee_ids": [person.json()["id"]],
               "outcomes": ["ceo_support", "no_such_outcome"]}
    path = f"/api/v1/engagements/{engagement_id}/meetings"
    chinese = assert_problem(_asked(app_client, "POST", path, zh_coach.token, json=meeting), 422)
    messages = {e["field"]: e["message"] for e in chinese["errors"]}
    assert messages["body.attendee_ids[0]"] == "不是此組織的人員"
    english = assert_problem(_asked(app_client, "POST", path, zh_coach.token, EN, json=meeting), 422)
    english_messages = {e["field"]: e["message"] for e in english["errors"]}
    assert english_messages["body.attendee_ids[0]"] == "not a person of this organization"
    assert str(person.json()["id"]) not in english["detail"] + chinese["detail"]


# --- 403 ------------------------------------------------------------------------------------------------------------


def test_forbidden_is_rendered_in_the_callers_language() -> None:
    """The API answers 404 for what a caller may not see; a 403 (a resource the caller sees but may not act on)
    is rendered like every problem: title and detail in the request's language."""
    app = FastAPI()
    install(app)

    @app.get("/scoped")
    def scoped() -> None:
        raise Forbidden(LocalizedText("This token lacks the scope transitions.", "此權杖缺少 transitions 範圍。"))

    client = TestClient(app)
    english = assert_problem(client.get("/scoped"), 403)
    chinese = assert_problem(client.get("/scoped", headers=ZH), 403)
    assert (english["title"], english["detail"]) == ("Forbidden", "This token lacks the scope transitions.")
    assert (chinese["title"], chinese["detail"]) == ("禁止存取", "此權杖缺少 transitions 範圍。")
