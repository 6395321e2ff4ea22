from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tokens, auth


def test_create_organization_and_engagement(app_client: TestClient, tokens: Tokens) -> None:
    response = app_client.post("/api/v1/organizations", json={"name": "Acme", "headcount": 40},
                               headers=auth(tokens.admin))
    assert response.status_code == 201, response.text
    org = response.json()
    response = app_client.post("/api/v1/engagements", json={"organization_id": org["id"],
                                                            "coach_ids": [tokens.coach_person_id]},
                               headers=auth(tokens.admin))
    assert response.status_code == 201, response.text
    engagement = response.json()
    assert engagement["phase"] == "coach_engaged"
    readiness = app_client.get(f"/api/v1/engagements/{engagement['id']}/readiness", headers=auth(tokens.coach))
    assert readiness.status_code == 200, readiness.text
    fired = app_client.post(f"/api/v1/engagements/{engagement['id']}/transitions",
                            json={"trigger": "schedule_executive_meeting"}, headers=auth(tokens.coach))
    assert fired.status_code == 200, fired.text
    assert fired.json()["engagement"]["phase"] == "executive_meeting"
    assert app_client.get(f"/api/v1/engagements/{engagement['id']}", headers=auth(tokens.other_coach)
                          ).status_code == 404
